from datetime import date

from celery import shared_task

from . import expiry, services, sweeps


@shared_task(acks_late=True, name="licenses.tasks.expire_licenses")
def expire_licenses(today: str | None = None) -> int:
    """The nightly expiry sweep; `today` (YYYY-MM-DD) only for catching up a given day."""
    on = date.fromisoformat(today) if today else services.today()
    with sweeps.recorded("licenses.tasks.expire_licenses", on):
        return len(expiry.expire_licenses(on=on))
