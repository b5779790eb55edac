"""Refuse, ask to confirm or suspend; and residents' grants suspended and restored."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import Group
from groups.scoping import Actor, audit_user

from .. import pools, totals
from ..models import (
    Feature,
    Grant,
    GrantFeature,
)
from ._base import (
    BlockInput,
    NeedsConfirmation,
    PoolChange,
    SaveResult,
    _day,
    _raise_hard,
    shortfall_message,
)


def _resolve(change: PoolChange, after_pools: list[Group | None], *, confirm: bool, actor: Actor,
             blocks: Iterable[BlockInput] = (), residents_moved_to: Group | None = None) -> SaveResult:
    """Refuse, ask to confirm, or suspend, from what the change did to `after_pools`.

    residents_moved_to: the pool that takes over residents when a restriction is switched on
    (the group itself) or off (its owner). Residents who would not fit there are the
    administrator's to confirm, as with a lowering, not a refusal.
    """
    shortfalls = change.shortfalls(after_pools)
    moved_to = residents_moved_to.pk if residents_moved_to is not None else None
    hard = [(s, facts) for s, facts in shortfalls
            if s.kind == "blocks" or (s.added_demand and s.pool.pk != moved_to)]
    if hard:
        _raise_hard(hard, blocks=blocks)
    result = SaveResult()
    soft_pools = {s.pool.pk: s.pool for s, _facts in shortfalls}
    if soft_pools:
        # (grant, day, pool): suspended now when the day is today; else by the daily sweep on that day.
        to_suspend: list[tuple[Grant, date, Group]] = []
        for pool in soft_pools.values():
            now = _grants_to_suspend(pool, change.today)
            if now:
                to_suspend += [(g, change.today, pool) for g in now]
                continue
            first_day = min(s.day for s, _facts in shortfalls if s.pool.pk == pool.pk)
            to_suspend += [(g, first_day, pool) for g in _grants_to_suspend(pool, first_day)]
        if to_suspend and not confirm:
            names = ", ".join(
                f"{g.user.display_name} ({g.group.name})" if day == change.today else
                _("%(who)s (%(where)s) from %(day)s") % {"who": g.user.display_name, "where": g.group.name,
                                                          "day": _day(day)}
                for g, day, _pool in to_suspend)
            raise NeedsConfirmation(
                " ".join(shortfall_message(s, facts) for s, facts in shortfalls)
                + " " + _("Confirm to suspend these residents' grants: %(names)s.") % {"names": names},
                [g for g, _day_, _pool in to_suspend],
            )
        result.to_suspend = to_suspend
        for pool in soft_pools.values():
            now = [g for g, day, p in to_suspend if day == change.today and p.pk == pool.pk]
            _suspend(now, actor, pool)
            result.suspended += now
    for pool in after_pools:
        if pool is not None:
            result.restored += restore_grants(pool=pool, on=change.today, actor=actor)
    return result


# --- suspension and restoration ---------------------------------------------------------


def _grant_quantities(grants: Iterable[Grant]) -> dict[int, dict[int, int]]:
    rows = GrantFeature.objects.filter(grant__in=list(grants), quantity__gt=0).values_list("grant_id", "feature_id", "quantity")
    out: dict[int, dict[int, int]] = {}
    for grant_id, feature_id, quantity in rows:
        out.setdefault(grant_id, {})[feature_id] = quantity
    return out


def _room_today(pool: Group, on: date, *, as_for_a_grant: bool = False,
                ) -> tuple[dict[int, int], dict[int, bool], dict[int, Feature], dict[int, int]]:
    """What is left today per counted feature (may be negative) and which switches are on.

    as_for_a_grant: what a new (or restored) grant may take: the least room on any day from
    today until the pool's own capacity first falls below today's, so that it never squeezes a
    sub-group's block already scheduled.
    """
    features = pools.all_features()
    tl = pools.timeline(pool, on)
    capacity, carved = tl.at(on)
    room, switches = {}, {}
    for fid, feature in features.items():
        if feature.is_counted:
            free = capacity.get(fid, 0) - carved.get(fid, 0)
            if as_for_a_grant:
                for day_capacity, day_carved in zip(tl.capacity, tl.carved, strict=True):
                    if day_capacity.get(fid, 0) < capacity.get(fid, 0):
                        break  # days are in order: from here on the fall is the sweep's to handle
                    free = min(free, day_capacity.get(fid, 0) - day_carved.get(fid, 0))
            room[fid] = free - tl.residents.get(fid, 0)
        else:
            switches[fid] = capacity.get(fid, 0) > 0
    return room, switches, features, tl.residents


def _grants_to_suspend(pool: Group, on: date) -> list[Grant]:
    """The grants to suspend, most recent first, until the residents fit the pool today."""
    room, switches, _features, residents = _room_today(pool, on)
    short = {fid for fid, r in room.items() if r < 0 and residents.get(fid, 0) > 0}
    missing_switches = {fid for fid, on_ in switches.items() if not on_ and residents.get(fid, 0) > 0}
    if not short and not missing_switches:
        return []  # the residents fit (the stored totals say so without reading them one by one)
    scope = pools.pool_scope(pool)
    candidates = [pk for pk, lft in Grant.objects.filter(scope.subtree("group__"), suspended_at__isnull=True)
                  .order_by("-granted_at", "-pk").values_list("pk", "group__lft") if scope.serves(lft)]
    quantities: dict[int, dict[int, int]] = defaultdict(dict)
    for grant_id, feature_id, quantity in GrantFeature.objects.filter(
            scope.subtree("grant__group__"), grant__suspended_at__isnull=True, quantity__gt=0).values_list(
            "grant_id", "feature_id", "quantity"):
        quantities[grant_id][feature_id] = quantity
    chosen: list[int] = []
    switch_users = {fid: sum(1 for pk in candidates if quantities[pk].get(fid)) for fid in missing_switches}
    for pk in candidates:
        if not short and not any(switch_users.values()):
            break
        q = quantities[pk]
        if any(q.get(fid, 0) > 0 for fid in short) or any(q.get(fid, 0) > 0 for fid in missing_switches):
            chosen.append(pk)
            for fid, amount in q.items():
                if fid in room:
                    room[fid] += amount
                if fid in switch_users and amount:
                    switch_users[fid] -= 1
            short = {fid for fid, r in room.items() if r < 0}
    by_pk = Grant.objects.select_related("user", "group").in_bulk(chosen)
    return [by_pk[pk] for pk in chosen]


def _suspend(grants: list[Grant], actor: Actor, pool: Group) -> None:
    """Suspend `grants`, which `pool` serves: they stop taking from it."""
    totals.grants_changed(grants, pool_id=pool.pk, sign=-1)
    now = timezone.now()
    for grant in grants:
        grant.suspended_at = now
        grant._history_user = audit_user(actor)
        grant.save(update_fields=["suspended_at"])


def suspend_to_fit(*, pool: Group, on: date, actor: Actor) -> list[Grant]:
    """Suspend residents' grants, most recent first, until they fit what `pool` has on `on`."""
    grants = _grants_to_suspend(pool, on)
    _suspend(grants, actor, pool)
    return grants


SUSPENDED_FEW = 2000


def _any_suspended_under(pool: Group) -> bool:
    """Whether a grant in `pool`'s subtree is suspended: read from the suspended grants (few, in a
    partial index), not from the subtree's groups (many), so it costs the same however big the pool."""
    homes = list(Grant.objects.filter(suspended_at__isnull=False).values_list("group_id", flat=True)
                 .distinct()[:SUSPENDED_FEW + 1])
    if not homes:
        return False
    where = Group.objects.filter(tree_id=pool.tree_id, lft__gte=pool.lft, rght__lte=pool.rght)
    if len(homes) > SUSPENDED_FEW:  # many suspended: let the database join them
        return where.filter(pk__in=Grant.objects.filter(suspended_at__isnull=False).values("group_id")).exists()
    return where.filter(pk__in=homes).exists()


def restore_grants(*, pool: Group, on: date, actor: Actor) -> list[Grant]:
    """Bring suspended grants back, oldest first, each checked like a new grant."""
    # Cheap when nothing is suspended (the usual case): suspended grants are few and indexed.
    if not _any_suspended_under(pool):
        return []
    scope = pools.pool_scope(pool)
    suspended = [g for g in Grant.objects.filter(scope.subtree("group__"), suspended_at__isnull=False)
                 .select_related("user", "group").order_by("granted_at", "pk") if scope.serves(g.group.lft)]
    if not suspended:
        return []
    room, switches, _features, _residents = _room_today(pool, on, as_for_a_grant=True)
    quantities = _grant_quantities(suspended)
    restored = []
    for grant in suspended:
        q = quantities.get(grant.pk, {})
        fits = all(room.get(fid, 0) >= amount for fid, amount in q.items() if fid in room) and all(
            switches.get(fid, False) for fid, amount in q.items() if fid in switches and amount > 0)
        if fits:
            for fid, amount in q.items():
                if fid in room:
                    room[fid] -= amount
            grant.suspended_at = None
            grant._history_user = audit_user(actor)
            grant.save(update_fields=["suspended_at"])
            restored.append(grant)
    totals.grants_changed(restored, pool_id=pool.pk, sign=+1)
    return restored
