"""The reminder schedule: on which days a block's administrators hear about its end."""

from datetime import date, timedelta

from .models import Recurrence

STEP = {Recurrence.DAILY: 1, Recurrence.WEEKLY: 7, Recurrence.EVERY_30_DAYS: 30}
EXPIRING, EXPIRED = "expiring", "expired"


def reminder_days(valid_until: date, days_before: int, recurrence: str, notify_expired: bool) -> list[tuple[date, str]]:
    """Every (day, kind) of a block's reminders, in order.

    Once: valid_until − N. Daily: each day from valid_until − N to valid_until. Weekly and
    Every 30 days: valid_until − N, then every 7 or 30 days while not after valid_until.
    With "notify when expired": one more on the first expired day.
    """
    first = valid_until - timedelta(days=days_before)
    days = []
    if recurrence == Recurrence.ONCE:
        days = [first]
    else:
        step = timedelta(days=STEP[recurrence])
        day = first
        while day <= valid_until:
            days.append(day)
            day += step
    out = [(d, EXPIRING) for d in days]
    if notify_expired:
        out.append((valid_until + timedelta(days=1), EXPIRED))
    return out


def latest_due(valid_until: date, days_before: int, recurrence: str, notify_expired: bool,
               on: date, reminder_on: bool = True) -> tuple[date, str] | None:
    """The latest reminder that fell due on or before `on` (after an outage, only that one).

    From the day after the block's end, only the expired notice (if on) is due: a catch-up never
    sends an "expiring" mail about a block that has already ended.
    """
    schedule = reminder_days(valid_until, days_before, recurrence, notify_expired)
    if not reminder_on or on > valid_until:
        schedule = [(d, k) for d, k in schedule if k == EXPIRED]
    due = [(d, k) for d, k in schedule if d <= on]
    return due[-1] if due else None


def due_for(valid_until: date | None, settings, on: date) -> tuple[date, str] | None:
    """latest_due() with a group's reminder settings (PoolSettings): None when nothing is due."""
    if valid_until is None or not (settings.reminder_enabled or settings.notify_expired):
        return None
    return latest_due(valid_until, settings.reminder_days, settings.recurrence, settings.notify_expired, on,
                      reminder_on=settings.reminder_enabled)


def next_for(valid_until: date | None, settings, on: date) -> date | None:
    """The first reminder day on or after `on` with a group's settings (None: none left, or off)."""
    if valid_until is None or not (settings.reminder_enabled or settings.notify_expired):
        return None
    return next_reminder(valid_until, settings.reminder_days, settings.recurrence, settings.notify_expired, on,
                         reminder_on=settings.reminder_enabled)


def next_reminder(valid_until: date, days_before: int, recurrence: str, notify_expired: bool,
                  on: date, reminder_on: bool = True) -> date | None:
    schedule = reminder_days(valid_until, days_before, recurrence, notify_expired)
    if not reminder_on:
        schedule = [(d, k) for d, k in schedule if k == EXPIRED]
    upcoming = [d for d, _k in schedule if d >= on]
    return upcoming[0] if upcoming else None
