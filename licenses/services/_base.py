"""Inputs, messages and the checked transaction that every license write shares."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from groups.locks import lock_pools
from groups.models import Group

from .. import pools
from ..models import (
    MAX_QUANTITY,
    BlockKind,
    Feature,
    Grant,
    Recurrence,
)

VIRTUAL_NUMBERS = "virtual_numbers"
MOBILE_APPS = "mobile_apps"


def today() -> date:
    """License days are days in the server's time zone."""
    return timezone.localdate()


def require_scope(check, actor, group: Group, message: str | None = None) -> None:
    """Authorise on fresh nested-set columns: call after taking the tree lock."""
    group.refresh_from_db()
    if not check(actor, group):
        raise PermissionDenied(message or _("You cannot change this group."))


# --- inputs -----------------------------------------------------------------------------


@dataclass
class SettingsInput:
    restricted: bool
    reminder_enabled: bool = False
    reminder_days: int = 14
    recurrence: str = Recurrence.ONCE
    notify_expired: bool = True


@dataclass
class BlockInput:
    """One block as submitted; `key` names it in errors (a form prefix, an admin row)."""

    key: str
    id: int | None
    kind: str
    valid_from: date
    valid_until: date | None
    quantities: Mapping[str, int]  # feature code -> quantity, switches 1/0
    note: str = ""


@dataclass
class SaveResult:
    suspended: list[Grant] = field(default_factory=list)
    restored: list[Grant] = field(default_factory=list)
    # Every grant the change suspends, today or by the sweep on a later day, in the rules' order.
    to_suspend: list[tuple[Grant, date, Group]] = field(default_factory=list)
    what_if: Any = None  # a whatif.WhatIf when asked for
    held: bool = False  # the change was undone: it takes something away and waits for confirmation


class NeedsConfirmation(ValidationError):
    """Only residents would stop fitting: the administrator may confirm suspending them."""

    def __init__(self, message: str, grants: list[Grant]):
        super().__init__(message, code="confirm_suspend")
        self.grants = grants


# --- messages ---------------------------------------------------------------------------


def _day(d: date) -> str:
    """A day in the reader's format (ISO in English, dd.mm.yyyy in Ukrainian: config/formats)."""
    return date_format(d, "SHORT_DATE_FORMAT")


@dataclass(frozen=True)
class PoolFacts:
    """What a message about a shortfall needs beyond the numbers."""

    pool_ends_on: date | None  # the pool's last day with capacity, None if it has no end
    holders: tuple[str, ...] = ()  # sub-groups whose blocks take the feature that day


def runs_past_the_end(s: pools.Shortfall, facts: PoolFacts) -> bool:
    """Nothing is left that day because the pool's own license has ended."""
    return s.capacity == 0 and facts.pool_ends_on is not None and facts.pool_ends_on < s.day


def shortfall_message(s: pools.Shortfall, facts: PoolFacts) -> str:
    """What went short and what to do, with the feature as the catalogue names it."""
    params = {"pool": s.pool.name, "feature": s.feature.label, "day": _day(s.day), "capacity": s.capacity,
              "need": s.need, "short": s.short}
    if runs_past_the_end(s, facts):
        return _("The license of %(pool)s ends on %(end)s: nothing is left of %(feature)s on %(day)s, "
                 "where %(need)s are needed.") % {**params, "end": _day(facts.pool_ends_on)}
    if not s.feature.is_counted:
        return _("%(pool)s's pool does not have %(feature)s on %(day)s, which is needed there.") % params
    free, asked = s.capacity - s.need_before, s.need - s.need_before
    if s.added_demand and asked > 0 and free >= 0:
        return _("%(pool)s has %(free)s %(feature)s free on %(day)s; this asks for %(asked)s: lower it by "
                 "%(short)s.") % {**params, "free": free, "asked": asked}
    if s.kind == "blocks" and s.residents:
        who = _("sub-groups and residents")
    elif s.kind == "blocks":
        who = _("sub-groups")
    else:
        who = _("sub-groups and residents") if s.carved else _("residents")
    message = _("%(pool)s's pool has %(capacity)s %(feature)s on %(day)s; %(who)s would need %(need)s: "
                "%(short)s short.") % {**params, "who": who}
    if s.kind == "blocks" and not s.added_demand and facts.holders:
        message += " " + _("Lower these sub-groups' blocks first: %(groups)s.") % {"groups": ", ".join(facts.holders)}
    return message


# --- validation of one block's shape ----------------------------------------------------


def _features_by_code() -> dict[str, Feature]:
    return {f.code: f for f in Feature.objects.all()}


def validate_quantities(quantities: Mapping[str, int], features: dict[str, Feature]) -> list[str]:
    """Each quantity, of a block or of a grant: a known feature; a whole number from 0 to the
    maximum for a counted feature (never True or False), 0 or 1 for a switch."""
    errors = []
    for code, quantity in quantities.items():
        feature = features.get(code)
        if feature is None:
            errors.append(_("Unknown feature “%(code)s”.") % {"code": code})
            continue
        if not isinstance(quantity, int) or (isinstance(quantity, bool) and feature.is_counted):
            errors.append(_("%(feature)s: enter a whole number.") % {"feature": feature.label})
        elif quantity < 0 or quantity > (MAX_QUANTITY if feature.is_counted else 1):
            errors.append(_("%(feature)s: enter a number from 0 to %(max)s.")
                          % {"feature": feature.label, "max": MAX_QUANTITY if feature.is_counted else 1})
    return errors


def validate_block_input(block: BlockInput, features: dict[str, Feature]) -> list[str]:
    """Checks of one block on its own: kind, dates, quantities, virtual numbers ≥ mobile apps."""
    errors = []
    if block.kind not in BlockKind.values:
        errors.append(_("Choose a valid kind."))
    if block.valid_until is not None and block.valid_from and block.valid_until < block.valid_from:
        errors.append(_("“Valid until” (%(until)s) is before “valid from” (%(from)s).")
                      % {"until": _day(block.valid_until), "from": _day(block.valid_from)})
    errors += validate_quantities(block.quantities, features)
    vn, apps = block.quantities.get(VIRTUAL_NUMBERS, 0), block.quantities.get(MOBILE_APPS, 0)
    if isinstance(vn, int) and isinstance(apps, int) and vn < apps:
        errors.append(_("Virtual numbers (%(vn)s) must be at least the mobile app installs (%(apps)s).")
                      % {"vn": vn, "apps": apps})
    return errors


# --- the checked transaction ------------------------------------------------------------


class PoolChange:
    """Before/after comparison of a set of pools around one change, inside a transaction."""

    def __init__(self, pool_groups: Iterable[Group | None], *, on: date):
        self.today = on
        self.features = pools.all_features()
        self.pools = {p.pk: p for p in pool_groups if p is not None}
        lock_pools(self.pools)
        self.before = {pk: pools.timeline(p, on) for pk, p in self.pools.items()}

    def shortfalls(self, after_pools: Iterable[Group | None], *, for_grant: bool = False) -> list[tuple[pools.Shortfall, PoolFacts]]:
        found = []
        for pool in after_pools:
            if pool is None:
                continue
            pool.refresh_from_db()
            after = pools.timeline(pool, self.today)
            before = self.before.get(pool.pk)
            for s in pools.compare(before, after, self.features, for_grant=for_grant):
                # Which sub-groups to lower first: only where a lowering left their blocks short.
                holders = pools.holders(pool, s.feature.pk, s.day) if s.kind == "blocks" and not s.added_demand \
                    else ()
                found.append((s, PoolFacts(after.last_day(), holders)))
        return found


def _raise_hard(shortfalls, *, blocks: Iterable[BlockInput] = ()) -> None:
    """Refuse with one message per shortfall, put on the submitted blocks valid that day. Each
    error's code names the field it concerns ("shortfall:<feature code>", or "past_end" for the
    block's end), so a form can mark that field."""
    errors: dict[str, list[ValidationError]] = {}
    for s, facts in shortfalls:
        keys = [b.key for b in blocks
                if b.valid_from <= s.day and (b.valid_until is None or s.day <= b.valid_until)]
        if keys and runs_past_the_end(s, facts):
            # One line for the block, whatever the features: it outlives the license above it.
            message = _("This block runs past the license of %(pool)s, which ends on %(end)s.") % {
                "pool": s.pool.name, "end": _day(facts.pool_ends_on)}
            code = "past_end"
        else:
            message = shortfall_message(s, facts)
            code = f"shortfall:{s.feature.code}"
        for key in keys or ["__all__"]:
            if message not in [e.message for e in errors.get(key, [])]:
                errors.setdefault(key, []).append(ValidationError(message, code=code))
    raise ValidationError(errors)
