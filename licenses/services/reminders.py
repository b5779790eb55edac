"""When the reminder sweep looks at a block, and what it records once a reminder went out.

The sweep itself (who hears what, the ledger, the mail) is the notifications app's; these are
the licenses columns it needs kept, written only here.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import django.dispatch

from groups.models import Group

from .. import schedule
from ..models import LicenseBlock, PoolSettings

# Sent after a save leaves a reminder already due today (on=the day), so that it goes out now,
# not at the next morning's sweep. notifications connects its sweep to it.
reminder_due = django.dispatch.Signal()


def _settings_for(group: Group) -> PoolSettings:
    return PoolSettings.objects.filter(group=group).first() or PoolSettings(group=group)


def next_reminder_for(block: LicenseBlock, settings: PoolSettings, on: date) -> date | None:
    """When the reminder sweep should next look at `block`.

    `on` itself when some reminder already fell due (the sweep then sends the latest one unless
    the ledger has it: a block created inside its reminder window still gets its reminder), else
    the first reminder day after `on`, or None when there is none left.
    """
    if block.device_id is not None:
        return None
    if schedule.due_for(block.valid_until, settings, on) is not None:
        return on
    return schedule.next_for(block.valid_until, settings, on)


def reschedule_reminders(*, group: Group, on: date, settings: PoolSettings | None = None) -> None:
    """Recompute the next reminder day of each of the group's blocks (few rows: one group's)."""
    settings = settings or _settings_for(group)
    due_now = False
    for block in LicenseBlock.objects.filter(group=group, valid_until__isnull=False).own():
        due = next_reminder_for(block, settings, on)
        due_now = due_now or (due is not None and due <= on)
        if block.next_reminder_on != due:
            LicenseBlock.objects.filter(pk=block.pk).update(next_reminder_on=due)
    if due_now:
        reminder_due.send(sender=LicenseBlock, on=on)


def reminders_advance(*, blocks: Iterable[tuple[LicenseBlock, PoolSettings]], on: date) -> None:
    """After the sweep of `on` dealt with these blocks (each with its group's settings): look at
    each again on its next reminder day after `on`. A block rescheduled meanwhile (its row changed
    under the sweep) keeps the new day. One UPDATE per (old day, new day), not one per block."""
    moves: dict[tuple[date | None, date | None], list[int]] = defaultdict(list)
    for block, settings in blocks:
        following = schedule.next_for(block.valid_until, settings, on + timedelta(days=1))
        moves[(block.next_reminder_on, following)].append(block.pk)
    for (old, following), ids in moves.items():
        LicenseBlock.objects.filter(pk__in=ids, next_reminder_on=old).update(next_reminder_on=following)


def blocks_notified(*, block_ids: Iterable[int], at: datetime) -> None:
    """Record when the administrators last heard about these blocks (shown in the validity report)."""
    LicenseBlock.objects.filter(pk__in=list(block_ids)).update(last_notified_at=at)
