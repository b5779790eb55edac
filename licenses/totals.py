"""Totals kept per pool, so that a write reads a few rows instead of everything below the pool.

Per pool and feature: change points by day of its capacity (its own blocks and the devices'
Basic blocks it serves) and of what it has handed down (its sub-groups' blocks), and what its
residents' active grants take today; per pool, how many devices count in it.

They are derived data. The services change them in the same locked transaction as the rows
they follow (`Changes`, a few statements per write, whatever the size of the pool); writes
that change who serves whom (a restriction switched, a move, a deletion) rebuild the pools
they touch from the rows (`rebuild`). `derive` computes them from the rows alone, and
check_integrity compares the two (`drift`). After rows were written by other means (a bulk
load, a restore), `rebuild_pool_totals` recomputes every pool.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import connection

from groups.models import Group

from .models import (
    BlockFeature,
    Grant,
    GrantFeature,
    LicenseBlock,
    PoolChangePoint,
    PoolDevices,
    PoolUse,
    exclude_devices,
)

CAPACITY, CARVED = 0, 1

# (valid_from, valid_until, {feature id: quantity}) of one block
Span = tuple[date, date | None, dict[int, int]]


@dataclass
class Totals:
    """One pool's totals, stored or derived: compared as equal when they say the same."""

    points: dict[tuple[int, date], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    residents: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    devices: int = 0

    def normalised(self) -> tuple[dict, dict, int]:
        return ({k: tuple(v) for k, v in self.points.items() if any(v)},
                {k: v for k, v in self.residents.items() if v}, self.devices)


class Changes:
    """Deltas gathered during one write and applied in one statement per table."""

    def __init__(self) -> None:
        self.points: dict[tuple[int, int, date], list[int]] = defaultdict(lambda: [0, 0])
        self.residents: dict[tuple[int, int], int] = defaultdict(int)
        self.devices: dict[int, int] = defaultdict(int)

    def spans(self, spans: Iterable[Span], *, pool_id: int | None, column: int, sign: int) -> "Changes":
        if pool_id is None:
            return self
        for valid_from, valid_until, quantities in spans:
            for feature_id, quantity in quantities.items():
                if not quantity:
                    continue
                self.points[(pool_id, feature_id, valid_from)][column] += sign * quantity
                if valid_until is not None:
                    self.points[(pool_id, feature_id, valid_until + timedelta(days=1))][column] -= sign * quantity
        return self

    def grant(self, quantities: dict[int, int], *, pool_id: int | None, sign: int) -> "Changes":
        if pool_id is not None:
            for feature_id, quantity in quantities.items():
                if quantity:
                    self.residents[(pool_id, feature_id)] += sign * quantity
        return self

    def device(self, *, pool_id: int | None, sign: int) -> "Changes":
        if pool_id is not None:
            self.devices[pool_id] += sign
        return self

    def apply(self) -> None:
        points = [(p, f, d, c[0], c[1]) for (p, f, d), c in self.points.items() if any(c)]
        residents = [(p, f, n) for (p, f), n in self.residents.items() if n]
        devices = [(p, n) for p, n in self.devices.items() if n]
        if not (points or residents or devices):
            return
        ops = connection.ops
        with connection.cursor() as cursor:
            if points:
                t = _table(PoolChangePoint)
                cursor.executemany(
                    f"INSERT INTO {t} (pool_id, feature_id, day, capacity, carved) VALUES (%s, %s, %s, %s, %s) "
                    f"ON CONFLICT (pool_id, feature_id, day) DO UPDATE SET capacity = {t}.capacity + "
                    f"excluded.capacity, carved = {t}.carved + excluded.carved",
                    [(p, f, ops.adapt_datefield_value(d), c, k) for p, f, d, c, k in points])
                cursor.execute(f"DELETE FROM {t} WHERE capacity = 0 AND carved = 0 AND pool_id IN "
                               f"({', '.join(['%s'] * len({p for p, *_ in points}))})",
                               sorted({p for p, *_ in points}))
            if residents:
                t = _table(PoolUse)
                cursor.executemany(
                    f"INSERT INTO {t} (pool_id, feature_id, residents) VALUES (%s, %s, %s) "
                    f"ON CONFLICT (pool_id, feature_id) DO UPDATE SET residents = {t}.residents + excluded.residents",
                    residents)
            if devices:
                t = _table(PoolDevices)
                cursor.executemany(
                    f"INSERT INTO {t} (pool_id, count) VALUES (%s, %s) "
                    f"ON CONFLICT (pool_id) DO UPDATE SET count = {t}.count + excluded.count", devices)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# --- the rows a write changes ---------------------------------------------------------------


def own_spans(group_id: int) -> list[Span]:
    """The group's own blocks (not devices'), with their quantities, in one query."""
    spans: dict[int, Span] = {}
    for block_id, valid_from, valid_until, feature_id, quantity in exclude_devices(BlockFeature.objects.filter(
            block__group_id=group_id, quantity__gt=0), "block__device").values_list(
            "block_id", "block__valid_from", "block__valid_until", "feature_id", "quantity"):
        spans.setdefault(block_id, (valid_from, valid_until, {}))[2][feature_id] = quantity
    return list(spans.values())


def block_span(block: LicenseBlock) -> Span:
    return (block.valid_from, block.valid_until,
            dict(block.quantities.filter(quantity__gt=0).values_list("feature_id", "quantity")))


def grant_quantities(grant_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = defaultdict(dict)
    for grant_id, feature_id, quantity in GrantFeature.objects.filter(
            grant_id__in=list(grant_ids), quantity__gt=0).values_list("grant_id", "feature_id", "quantity"):
        out[grant_id][feature_id] = quantity
    return out


def grants_changed(grants: Iterable[Grant], *, pool_id: int | None, sign: int) -> None:
    """Grants that started (+1) or stopped (-1) taking from `pool_id` (suspended, restored)."""
    grants = list(grants)
    if pool_id is None or not grants:
        return
    changes = Changes()
    for quantities in grant_quantities(g.pk for g in grants).values():
        changes.grant(quantities, pool_id=pool_id, sign=sign)
    changes.apply()


def serving_pool_id(group_id: int) -> int | None:
    from .pools import serving_pools

    return serving_pools([group_id])[group_id]


# --- derived from the rows, stored, rebuilt ----------------------------------------------------


def _block_totals(blocks, keep, totals: Totals, column: int) -> int:
    """Add the blocks chosen by `keep(group id, lft, device id)` to totals; how many were kept."""
    rows = {pk: (vf, vu) for pk, g, lft, dev, vf, vu in blocks.values_list(
        "pk", "group_id", "group__lft", "device_id", "valid_from", "valid_until") if keep(g, lft, dev)}
    if rows:
        for block_id, feature_id, quantity in BlockFeature.objects.filter(
                block__in=blocks.values("pk"), quantity__gt=0).values_list("block_id", "feature_id", "quantity"):
            if block_id in rows:
                valid_from, valid_until = rows[block_id]
                totals.points[(feature_id, valid_from)][column] += quantity
                if valid_until is not None:
                    totals.points[(feature_id, valid_until + timedelta(days=1))][column] -= quantity
    return len(rows)


def derive(pool: Group) -> Totals:
    """A pool's totals from the rows alone (blocks, devices, grants): what stored ones must equal."""
    from . import pools

    scope = pools.pool_scope(pool)
    own, devices = pools.capacity_blocks(scope)
    owned = scope.owned_ids
    totals = Totals()
    _block_totals(own, lambda _g, _lft, device: device is None, totals, CAPACITY)
    totals.devices = _block_totals(devices, lambda _g, lft, _device: scope.serves(lft), totals, CAPACITY)
    _block_totals(pools.carved_blocks(scope), lambda g, _lft, device: device is None and g in owned, totals, CARVED)
    for feature_id, quantity in pools.active_grant_totals(scope).items():
        totals.residents[feature_id] += quantity
    return totals


def stored(pool_id: int) -> Totals:
    totals = Totals()
    for feature_id, day, capacity, carved in PoolChangePoint.objects.filter(pool_id=pool_id).values_list(
            "feature_id", "day", "capacity", "carved"):
        totals.points[(feature_id, day)] = [capacity, carved]
    for feature_id, residents in PoolUse.objects.filter(pool_id=pool_id).values_list("feature_id", "residents"):
        totals.residents[feature_id] = residents
    totals.devices = PoolDevices.objects.filter(pool_id=pool_id).values_list("count", flat=True).first() or 0
    return totals


def _forget(pool_ids: list[int]) -> None:
    for model in (PoolChangePoint, PoolUse, PoolDevices):
        model.objects.filter(pool_id__in=pool_ids).delete()


def _store(pool_id: int, totals: Totals) -> None:
    PoolChangePoint.objects.bulk_create(
        [PoolChangePoint(pool_id=pool_id, feature_id=f, day=d, capacity=c, carved=k)
         for (f, d), (c, k) in totals.points.items() if c or k], batch_size=2000)
    PoolUse.objects.bulk_create([PoolUse(pool_id=pool_id, feature_id=f, residents=n)
                                 for f, n in totals.residents.items() if n], batch_size=2000)
    if totals.devices:
        PoolDevices.objects.create(pool_id=pool_id, count=totals.devices)


def rebuild(groups: Iterable[Group | None]) -> None:
    """Recompute the totals of these groups from the rows (those no longer restricted lose theirs):
    after a change of who serves whom, where deltas would not say which rows moved."""
    from .pools import restricted_q

    ids = sorted({g.pk for g in groups if g is not None})
    if not ids:
        return
    _forget(ids)
    for pool in Group.objects.filter(restricted_q(), pk__in=ids):
        _store(pool.pk, derive(pool))


def rebuild_all() -> int:
    """Recompute every pool's totals from the rows; how many pools."""
    from .pools import restricted_q

    for model in (PoolChangePoint, PoolUse, PoolDevices):
        model.objects.all().delete()
    count = 0
    for pool in Group.objects.filter(restricted_q()).order_by("tree_id", "lft").iterator(chunk_size=500):
        _store(pool.pk, derive(pool))
        count += 1
    return count


def drift() -> list[str]:
    """Where the stored totals differ from the rows: one line per pool (empty when none)."""
    from .pools import restricted_q

    problems = []
    for pool in Group.objects.filter(restricted_q()).order_by("tree_id", "lft"):
        want, have = derive(pool).normalised(), stored(pool.pk).normalised()
        if want != have:
            parts = []
            for name, w, h in (("change points", want[0], have[0]), ("residents", want[1], have[1])):
                wrong = sorted(k for k in set(w) | set(h) if w.get(k) != h.get(k))
                if wrong:
                    parts.append(f"{name} differ at {', '.join(str(k) for k in wrong[:3])}"
                                 + (f" (+{len(wrong) - 3} more)" if len(wrong) > 3 else "")
                                 + f": stored {[h.get(k) for k in wrong[:3]]}, from the rows {[w.get(k) for k in wrong[:3]]}")
            if want[2] != have[2]:
                parts.append(f"devices: stored {have[2]}, from the rows {want[2]}")
            problems.append(f"{pool.name} (group {pool.pk}): " + "; ".join(parts))
    strays = set()
    for model in (PoolChangePoint, PoolUse, PoolDevices):
        strays |= set(model.objects.exclude(pool_id__in=Group.objects.filter(restricted_q()).values("pk"))
                      .values_list("pool_id", flat=True).distinct())
    for pool_id in sorted(strays):
        problems.append(f"group {pool_id} is not a pool but has stored totals")
    return problems


def grant_deleted(sender, instance: Grant, **kwargs) -> None:
    """pre_delete of a Grant (a person deleted, an apartment deleted): it stops taking from its pool.
    Deleting a group also rebuilds the pool above it; this keeps a person's deletion right."""
    if instance.suspended_at is None:
        quantities = grant_quantities([instance.pk]).get(instance.pk)
        if quantities:
            Changes().grant(quantities, pool_id=serving_pool_id(instance.group_id), sign=-1).apply()


def rebuild_all_locked() -> int:
    """rebuild_all with every company's tree lock held, so that no write runs beside it."""
    from django.db import transaction

    from groups.locks import lock_tree

    with transaction.atomic():
        for tree_id in sorted(Group.objects.filter(parent__isnull=True).values_list("tree_id", flat=True)):
            lock_tree(tree_id)
        return rebuild_all()
