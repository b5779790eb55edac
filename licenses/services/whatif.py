"""What a change to a group's licenses takes away, computed inside the change itself.

`licenses_save` applies the change, then (when asked) describes what it did to the pools it
touched: the days each pool has less left for the sub-groups and residents that share it, the
grants suspended (today and on later days, in the order the rules pick them), the reminders
whose days move, and a pool that closes. The same transaction then either stays (confirmed) or
is rolled back (a preview), so the preview and the change cannot disagree.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from groups.models import Group

from .. import pools, totals
from ..models import Feature, Grant, LicenseBlock


@dataclass(frozen=True)
class Loss:
    """On days `start`..`end` (None: no end) `pool` has less of `feature` left for the sub-groups
    and residents that share it: `after` instead of `before` (switches: 1 on, 0 off)."""

    pool: Group
    feature: Feature
    start: date
    end: date | None
    before: int
    after: int
    residents: int  # what the pool's residents' active grants take today, after the change


@dataclass(frozen=True)
class Suspension:
    """A grant the change suspends: today, or on `day` by the daily sweep."""

    grant: Grant
    day: date
    pool: Group
    quantities: list[tuple[Feature, int]]  # what the resident loses (switches: 1), in catalogue order


@dataclass(frozen=True)
class ReminderChange:
    """A block whose next reminder day moves (`after` None: no more reminders for it)."""

    block_id: int
    valid_from: date
    valid_until: date | None
    before: date | None
    after: date | None
    removed: bool = False


@dataclass
class WhatIf:
    losses: list[Loss] = field(default_factory=list)
    suspensions: list[Suspension] = field(default_factory=list)
    reminders: list[ReminderChange] = field(default_factory=list)
    closes: Group | None = None  # the group whose own pool closes (restriction switched off)
    shared_with: Group | None = None  # whose pool its sub-groups and residents share instead

    @property
    def takes_away(self) -> bool:
        return bool(self.losses or self.suspensions or self.closes)

    @property
    def fingerprint(self) -> str:
        """Names this what-if: a confirmation is valid only for the what-if the person saw."""
        parts = [("loss", x.pool.pk, x.feature.pk, x.start, x.end, x.before, x.after) for x in self.losses]
        parts += [("suspend", s.grant.pk, s.day, s.pool.pk) for s in self.suspensions]
        parts += [("closes", self.closes.pk if self.closes else None)]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


Reminders = dict[int, tuple[date, date | None, date | None]]


def reminder_days(group: Group) -> Reminders:
    """The group's own blocks with an end: block id -> (from, until, next reminder day)."""
    return {pk: (start, end, due) for pk, start, end, due in LicenseBlock.objects.filter(
        group=group, valid_until__isnull=False).own().values_list("pk", "valid_from", "valid_until", "next_reminder_on")}


def _reminder_changes(before: Reminders, after: Reminders) -> list[ReminderChange]:
    changes = []
    for pk, (start, end, due) in before.items():
        if pk not in after:
            if due is not None:
                changes.append(ReminderChange(pk, start, end, due, None, removed=True))
        elif after[pk][2] != due:
            changes.append(ReminderChange(pk, after[pk][0], after[pk][1], due, after[pk][2]))
    changes += [ReminderChange(pk, start, end, None, due) for pk, (start, end, due) in after.items()
                if pk not in before and due is not None]
    return sorted(changes, key=lambda c: (c.after or c.before or date.max, c.block_id))


def _left(tl: pools.Timeline, day: date, feature: Feature) -> int:
    capacity, carved = tl.at(day)
    if feature.is_counted:
        return capacity.get(feature.pk, 0) - carved.get(feature.pk, 0)
    return 1 if capacity.get(feature.pk, 0) > 0 else 0


def losses(before: pools.Timeline, after: pools.Timeline, features: Iterable[Feature]) -> list[Loss]:
    """The days on which `after` leaves less than `before`, per feature, as runs of equal values."""
    days = sorted(set(before.days) | set(after.days))
    found: list[Loss] = []
    for feature in features:
        run: list | None = None  # [start, before, after, end]
        for i, day in enumerate(days):
            was, now = _left(before, day, feature), _left(after, day, feature)
            end = days[i + 1] - timedelta(days=1) if i + 1 < len(days) else None
            if now < was and run and run[1:3] == [was, now]:
                run[3] = end  # the same loss goes on
                continue
            if run:
                found.append(Loss(after.pool, feature, run[0], run[3], run[1], run[2],
                                  after.residents.get(feature.pk, 0)))
            run = [day, was, now, end] if now < was else None
        if run:
            found.append(Loss(after.pool, feature, run[0], run[3], run[1], run[2], after.residents.get(feature.pk, 0)))
    return found


def build(*, change, after_pools: Iterable[Group | None], suspended: list[tuple[Grant, date, Group]],
          reminders_before: Reminders, group: Group, closes: Group | None, shared_with: Group | None) -> WhatIf:
    features = sorted(change.features.values(), key=lambda f: f.position)
    after = {p.pk: p for p in after_pools if p is not None}
    what = WhatIf(closes=closes, shared_with=shared_with if closes else None)
    # What the group's own pool leaves its sub-groups and residents. (What the pool above it has
    # left falls only when the group takes more: that is not taking away, and the rules check it.)
    if group.pk in change.before and group.pk in after:
        what.losses = losses(change.before[group.pk], pools.timeline(after[group.pk], change.today), features)
    quantities = totals.grant_quantities(g.pk for g, _day, _pool in suspended)
    what.suspensions = [Suspension(g, day, pool, [(f, quantities[g.pk][f.pk]) for f in features
                                                  if quantities.get(g.pk, {}).get(f.pk)])
                        for g, day, pool in suspended]
    what.reminders = _reminder_changes(reminders_before, reminder_days(group))
    return what
