"""The pool arithmetic: who serves whom, and capacity against demand as step functions of the day.

Capacity and demand only change on the days a block starts or the day after it ends, so a
pool is compared at those breakpoints, in one sweep over sorted events, never day by day.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from groups.chain import chains
from groups.models import Group

from .models import (
    BlockFeature,
    Feature,
    Grant,
    GrantFeature,
    LicenseBlock,
    PoolChangePoint,
    PoolSettings,
    PoolUse,
)


def restricted_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}license_settings__restricted": True})


def serving_pool(group: Group) -> Group | None:
    """The pool that serves `group`: itself if restricted, else its parent's; None = unlimited."""
    return _nearest_restricted(group.pk)


def _nearest_restricted(group_id: int | None) -> Group | None:
    """The nearest restricted group among `group_id` and its ancestors, in one query that visits
    only the chain: each step looks its settings up by key (LATERAL on PostgreSQL, whose planner
    otherwise hash-joins the chain against every pool's settings; a correlated EXISTS on SQLite)."""
    if group_id is None:
        return None
    groups, settings = (connection.ops.quote_name(m._meta.db_table) for m in (Group, PoolSettings))
    columns = ", ".join(f"g.{connection.ops.quote_name(f.column)}" for f in Group._meta.concrete_fields)
    if connection.vendor == "postgresql":
        restricted = (f"CROSS JOIN LATERAL (SELECT 1 FROM {settings} s WHERE s.group_id = c.id AND s.restricted) s "
                      f"JOIN {groups} g ON g.id = c.id")
    else:
        restricted = (f"JOIN {groups} g ON g.id = c.id "
                      f"WHERE EXISTS (SELECT 1 FROM {settings} s WHERE s.group_id = c.id AND s.restricted)")
    found = list(Group.objects.raw(
        f"WITH RECURSIVE chain(id, parent_id, depth) AS ("
        f" SELECT id, parent_id, 0 FROM {groups} WHERE id = %s"
        f" UNION ALL SELECT p.id, p.parent_id, c.depth + 1 FROM {groups} p JOIN chain c ON p.id = c.parent_id"
        f") SELECT {columns} FROM chain c {restricted} ORDER BY c.depth LIMIT 1", [group_id]))
    return found[0] if found else None


def serving_pools(group_ids) -> dict[int, int | None]:
    """serving_pool's id for many groups at once: their chains in one query, the restricted ones
    among them in another."""
    chain_of = chains(group_ids)
    on_chains = {g for chain in chain_of.values() for g in chain}
    restricted = set(Group.objects.filter(restricted_q(), pk__in=on_chains).values_list("pk", flat=True)) \
        if on_chains else set()
    return {gid: next((g for g in chain_of.get(gid, []) if g in restricted), None) for gid in group_ids}


def pool_owner(group: Group) -> Group | None:
    """The pool a restricted group's blocks are carved from (None for a company: sourced)."""
    return _nearest_restricted(group.parent_id)


@dataclass(frozen=True)
class PoolScope:
    """Which groups of a pool's subtree it serves: all but the subtrees of the restricted groups
    inside it. Only the outermost of those matter; their ranges are disjoint and sorted, so
    "is this group served?" is one binary search, and every read of a pool is a range scan of
    its subtree filtered here, never a correlated subquery per row (that grew quadratically)."""

    pool: Group
    inner: list[tuple[int, int, int]]  # (lft, rght, group id) of the outermost restricted groups inside

    @property
    def owned_ids(self) -> set[int]:
        """The restricted groups whose blocks are carved from this pool."""
        return {pk for _l, _r, pk in self.inner}

    def serves(self, lft: int) -> bool:
        """Whether the group with this lft (inside the pool's subtree) is served by the pool."""
        i = bisect_right(self._lfts, lft) - 1
        return not (i >= 0 and lft <= self.inner[i][1])

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lfts", [lft for lft, _r, _pk in self.inner])

    def subtree(self, prefix: str = "", *, strict: bool = False) -> Q:
        lft = f"{prefix}lft__gt" if strict else f"{prefix}lft__gte"
        return Q(**{f"{prefix}tree_id": self.pool.tree_id, lft: self.pool.lft, f"{prefix}rght__lte": self.pool.rght})


def pool_scope(pool: Group) -> PoolScope:
    rows = (Group.objects.filter(restricted_q(), tree_id=pool.tree_id, lft__gt=pool.lft, rght__lt=pool.rght)
            .order_by("lft").values_list("lft", "rght", "pk"))
    outermost, reach = [], 0
    for lft, rght, pk in rows:
        if lft > reach:  # not inside the previous outermost one
            outermost.append((lft, rght, pk))
            reach = rght
    return PoolScope(pool, outermost)


def capacity_blocks(scope: PoolScope) -> tuple[QuerySet[LicenseBlock], QuerySet[LicenseBlock]]:
    """The pool's own blocks, and the devices' Basic blocks in its subtree (filter with serves())."""
    # "device IS NULL" is left to Python (the keep predicates in timeline()): in SQL, SQLite's
    # planner walks the unique device index for it, over every block of the table.
    own = LicenseBlock.objects.filter(group=scope.pool)
    devices = LicenseBlock.objects.filter(scope.subtree("group__"), device__isnull=False)
    return own, devices


def carved_blocks(scope: PoolScope) -> QuerySet[LicenseBlock]:
    """Blocks of restricted groups inside the pool (filter to owned_ids: the outermost ones)."""
    return LicenseBlock.objects.filter(scope.subtree("group__", strict=True), restricted_q("group__"))


def active_grant_totals(scope: PoolScope) -> dict[int, int]:
    """feature id -> the sum of active (not suspended) grants of the residents `pool` serves."""
    rows = (
        GrantFeature.objects.filter(scope.subtree("grant__group__"), grant__suspended_at__isnull=True)
        .values("grant__group__lft", "feature_id")
        .annotate(total=Sum("quantity"))
    )
    totals: dict[int, int] = defaultdict(int)
    for r in rows:
        if scope.serves(r["grant__group__lft"]):
            totals[r["feature_id"]] += r["total"] or 0
    return dict(totals)


def served_grants(scope: PoolScope, *, suspended: bool) -> list[int]:
    """Ids of the grants (suspended or active) of residents the pool serves."""
    rows = Grant.objects.filter(scope.subtree("group__"), suspended_at__isnull=not suspended).values_list(
        "pk", "group__lft")
    return [pk for pk, lft in rows if scope.serves(lft)]


@dataclass
class Timeline:
    """A pool's capacity and demand from `today` on, as values at each breakpoint day."""

    pool: Group
    today: date
    days: list[date]
    capacity: list[dict[int, int]]
    carved: list[dict[int, int]]
    residents: dict[int, int]

    @classmethod
    def from_points(cls, pool: Group, today: date, points: Iterable[tuple[int, date, int, int]],
                    residents: dict[int, int]) -> "Timeline":
        """From (feature, day, capacity change, carved change): what happened up to today is
        summed into today's values; each later day with a change is a breakpoint."""
        running: list[dict[int, int]] = [defaultdict(int), defaultdict(int)]
        later: dict[date, list[tuple[int, int, int]]] = defaultdict(list)
        for feature_id, day, capacity, carved in points:
            if day <= today:
                running[0][feature_id] += capacity
                running[1][feature_id] += carved
            else:
                later[day].append((feature_id, capacity, carved))
        days, capacities, carveds = [today], [dict(running[0])], [dict(running[1])]
        for day in sorted(later):
            for feature_id, capacity, carved in later[day]:
                running[0][feature_id] += capacity
                running[1][feature_id] += carved
            days.append(day)
            capacities.append(dict(running[0]))
            carveds.append(dict(running[1]))
        return cls(pool, today, days, capacities, carveds, dict(residents))

    def at(self, day: date) -> tuple[dict[int, int], dict[int, int]]:
        """(capacity, carved) on `day` (>= today)."""
        index = max(bisect_right(self.days, day) - 1, 0)
        return self.capacity[index], self.carved[index]

    def last_day(self) -> date | None:
        """The last day the pool has any capacity; None if it never ends (or has none from today)."""
        if any(v > 0 for v in self.capacity[-1].values()):
            return None
        having = [i for i, capacity in enumerate(self.capacity) if any(v > 0 for v in capacity.values())]
        return self.days[having[-1] + 1] - timedelta(days=1) if having else None


def timeline(pool: Group, today: date) -> Timeline:
    """The pool's timeline from its stored totals (licenses.totals), whatever the number of
    blocks, sub-groups and residents below it: what changed up to today summed by the database
    (a row per feature), then a row per later change point (bounded by the days blocks end on)."""
    table = connection.ops.quote_name(PoolChangePoint._meta.db_table)
    day = connection.ops.adapt_datefield_value(today)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT feature_id, NULL, SUM(capacity), SUM(carved) FROM {table} WHERE pool_id = %s AND day <= %s "
            f"GROUP BY feature_id UNION ALL "
            f"SELECT feature_id, day, capacity, carved FROM {table} WHERE pool_id = %s AND day > %s",
            [pool.pk, day, pool.pk, day])
        rows = cursor.fetchall()
    points = [(f, today if d is None else d if isinstance(d, date) else date.fromisoformat(d), c, k)
              for f, d, c, k in rows]
    residents = dict(PoolUse.objects.filter(pool=pool).values_list("feature_id", "residents"))
    return Timeline.from_points(pool, today, points, residents)


def derived_timeline(pool: Group, today: date) -> Timeline:
    """The same, computed from the rows alone (check_integrity judges the pool rules on this)."""
    from .totals import derive

    totals = derive(pool)
    return Timeline.from_points(pool, today, [(f, d, c, k) for (f, d), (c, k) in totals.points.items()],
                                totals.residents)


def holders(pool: Group, feature_id: int, day: date, limit: int = 5) -> tuple[str, ...]:
    """Names of the sub-groups whose blocks take `feature_id` from `pool` on `day` (for a refusal
    that asks to lower them first), in tree order, at most `limit` and "…" for the rest."""
    scope = pool_scope(pool)
    owned = scope.owned_ids
    valid = Q(block__valid_from__lte=day) & (Q(block__valid_until__isnull=True) | Q(block__valid_until__gte=day))
    ids = set(BlockFeature.objects.filter(valid, scope.subtree("block__group__", strict=True),
                                          block__device__isnull=True, feature_id=feature_id, quantity__gt=0)
              .values_list("block__group_id", flat=True)) & owned
    names = list(Group.objects.filter(pk__in=ids).order_by("lft").values_list("name", flat=True)[:limit + 1])
    return tuple(names[:limit]) + (("…",) if len(names) > limit else ())


@dataclass(frozen=True)
class Shortfall:
    pool: Group
    feature: Feature
    day: date
    capacity: int
    carved: int
    residents: int
    kind: str  # "blocks": sub-groups' blocks do not fit; "residents": only residents do not fit
    added_demand: bool  # True: the change asked for more; False: the change took capacity away
    need_before: int = 0  # what sub-groups and residents took that day before the change

    @property
    def need(self) -> int:
        return self.carved + self.residents

    @property
    def short(self) -> int:
        return self.need - self.capacity


def compare(before: Timeline | None, after: Timeline, features: dict[int, Feature],
            *, for_grant: bool = False) -> list[Shortfall]:
    """Shortfalls the change made or worsened in `after`'s pool: for each feature, the first day
    sub-groups' blocks no longer fit, and the first day only residents no longer fit. A residents'
    shortfall never hides a later day on which a sub-group's block does not fit.

    A block is checked on each of its days from today on. A resident's grant is checked against
    today's capacity, and, so that it never squeezes sub-groups' blocks already scheduled, on the
    later days while that capacity lasts (until the pool first shrinks by expiry: from then on
    residents are suspended by the expiry sweep, not refused now).
    """
    days = sorted(set(after.days) | (set(before.days) if before else set()))
    found: dict[tuple[int, str], Shortfall] = {}
    today_capacity = after.at(after.today)[0]
    past_horizon: set[int] = set()
    for day in days:
        cap_a, carved_a = after.at(day)
        cap_b, carved_b = before.at(day) if before else ({}, {})
        for feature_id, feature in features.items():
            if (feature_id, "blocks") in found or feature_id in past_horizon:
                continue
            if for_grant and cap_a.get(feature_id, 0) < today_capacity.get(feature_id, 0):
                past_horizon.add(feature_id)
                continue
            capacity = cap_a.get(feature_id, 0)
            carved = carved_a.get(feature_id, 0)
            residents = after.residents.get(feature_id, 0)
            if before:
                capacity_before = cap_b.get(feature_id, 0)
                carved_before = carved_b.get(feature_id, 0)
                residents_before = before.residents.get(feature_id, 0)
            else:
                capacity_before, carved_before, residents_before = None, 0, 0
            if feature.is_counted:
                # Sub-group blocks over capacity is judged on its own: residents already short on
                # that day (the sweep's fallback) must not hide a block that no longer fits.
                blocks_over = carved - capacity
                blocks_over_before = (carved_before - capacity_before) if before else 0
                excess = carved + residents - capacity
                excess_before = (carved_before + residents_before - capacity_before) if before else 0
                if blocks_over > 0 and blocks_over > max(0, blocks_over_before):
                    kind = "blocks"
                elif excess > 0 and excess > max(0, excess_before):
                    kind = "residents"
                else:
                    continue
            else:  # a switch: on or off
                if capacity > 0:
                    continue
                missing_before = before is not None and capacity_before <= 0
                if carved > 0 and not (missing_before and carved_before > 0):
                    kind = "blocks"
                elif (carved > 0 or residents > 0) and not (missing_before and (carved_before > 0 or residents_before > 0)):
                    kind = "residents"
                else:
                    continue
            if (feature_id, kind) in found:
                continue
            added = carved > carved_before or residents > residents_before
            found[(feature_id, kind)] = Shortfall(after.pool, feature, day, capacity, carved, residents, kind, added,
                                                  need_before=carved_before + residents_before)
    return sorted(found.values(), key=lambda s: (s.day, s.feature.position))



def all_features() -> dict[int, Feature]:
    return {f.pk: f for f in Feature.objects.all()}
