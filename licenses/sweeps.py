"""A record of each scheduled sweep's last run (models.SweepRun), written by the tasks."""

from contextlib import contextmanager
from datetime import date

from django.utils import timezone

from .models import SweepRun


@contextmanager
def recorded(name: str, day: date):
    """Wrap a sweep: its start, then its end (or its error) in SweepRun, each in its own commit."""
    SweepRun.objects.update_or_create(name=name, defaults={"day": day, "started_at": timezone.now()})
    try:
        yield
    except BaseException as exc:
        SweepRun.objects.filter(name=name).update(error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    SweepRun.objects.filter(name=name).update(finished_at=timezone.now(), error="")
