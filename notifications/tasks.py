from datetime import date
from smtplib import SMTPException

from celery import shared_task

from config.enqueue import enqueue_on_commit
from licenses import services as license_services
from licenses import sweeps

from . import services


class RemindersFailed(Exception):
    """Some mails could not be sent; the task is retried and the ledger prevents doubles."""


@shared_task(
    bind=True, acks_late=True, name="notifications.tasks.send_license_reminders",
    autoretry_for=(RemindersFailed, SMTPException, OSError), retry_backoff=30, retry_backoff_max=1800,
    retry_jitter=True, max_retries=8,
)
def send_license_reminders(self, today: str | None = None) -> int:
    on = date.fromisoformat(today) if today else license_services.today()
    with sweeps.recorded(self.name, on):
        result = services.send_license_reminders(on=on)
        if result.failures:
            raise RemindersFailed("; ".join(result.failures[:5]))
    return sum(1 for a in result.actions if a.status == "sent")


def send_reminders_now(sender, *, on: date, **kwargs) -> None:
    """licenses' reminder_due: hand the day's sweep to a worker once the save has committed."""
    enqueue_on_commit(send_license_reminders.name, on.isoformat())
