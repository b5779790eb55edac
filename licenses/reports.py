"""License usage per pool, read from the totals each pool keeps (licenses.totals), so a page of
the report costs the same whatever the size of the network.

limit is the pool's capacity on the day, held what its sub-groups' blocks take that day, used
what its residents' active grants take (today's: grants have no dates). check_integrity and the
bench's hand-written SQL floor derive the same numbers from the rows.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from functools import cached_property

from django.db.models import Q, QuerySet, Sum

from groups.models import Group

from .models import Feature, LicenseBlock, PoolChangePoint, PoolUse

USAGE_FIELDS = ["group_id", "group", "kind", "feature", "feature_name", "limit", "held", "used", "available"]


@dataclass(frozen=True)
class UsageRow:
    group_id: int
    group: str
    kind: str
    feature: str
    limit: int
    held: int
    used: int
    owner_id: int | None = None  # the pool its blocks are carved from
    feature_name: str = ""  # the feature's name in the current language

    @property
    def available(self) -> int:
        return self.limit - self.held - self.used

    @property
    def percent_used(self) -> int | None:
        return round(100 * (self.held + self.used) / self.limit) if self.limit else None

    def csv_row(self) -> tuple:
        """The values of USAGE_FIELDS, in that order."""
        return (self.group_id, self.group, self.kind, self.feature, self.feature_name, self.limit, self.held,
                self.used, self.limit - self.held - self.used)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("owner_id")
        return {**data, "available": self.available}


class PoolMap:
    """Answers "which restricted group serves this (tree_id, lft, rght)?" for many groups."""

    def __init__(self, restricted: list[tuple[int, int, int, int]]):  # (tree_id, lft, rght, pk)
        self.intervals = sorted(restricted)

    def assign(self, items: list[tuple[int, int, int, object]], *, strict: bool = False) -> dict[object, int | None]:
        """items: (tree_id, lft, rght, key) -> key: pk of the innermost restricted interval holding it
        (strict: strictly containing it, i.e. the pool owner)."""
        out: dict[object, int | None] = {}
        stack: list[tuple[int, int, int, int]] = []
        intervals = iter(self.intervals)
        pending = next(intervals, None)
        def contains(outer, tree_id, lft, rght) -> bool:
            return outer[0] == tree_id and outer[1] <= lft and rght <= outer[2]

        for tree_id, lft, rght, key in sorted(items, key=lambda i: (i[0], i[1])):
            while pending is not None and (pending[0], pending[1]) <= (tree_id, lft):
                # Keep the stack a chain of nested intervals: drop those that end before this one.
                while stack and not contains(stack[-1], pending[0], pending[1], pending[2]):
                    stack.pop()
                stack.append(pending)
                pending = next(intervals, None)
            while stack and not contains(stack[-1], tree_id, lft, rght):
                stack.pop()
            candidates = [s for s in reversed(stack) if not (strict and s[1] == lft)]
            out[key] = candidates[0][3] if candidates else None
        return out


def usage_pools(*, root: Group | None = None, scope: Q | None = None, groups_filter: Q | None = None) -> QuerySet[Group]:
    """The pools (restricted groups) a report shows, in tree order: a query, to paginate in the database."""
    pools = Group.objects.filter(license_settings__restricted=True)
    if root is not None:
        pools = pools.filter(tree_id=root.tree_id, lft__gte=root.lft, rght__lte=root.rght)
    if scope is not None:
        pools = pools.filter(scope)
    if groups_filter is not None:
        pools = pools.filter(groups_filter)
    return pools.order_by("tree_id", "lft")


def counted_features(feature_codes: list[str] | None = None) -> list[Feature]:
    features = list(Feature.objects.filter(kind=Feature.Kind.COUNTED))
    return [f for f in features if f.code in feature_codes] if feature_codes else features


POOL_COLUMNS = ("pk", "name", "kind", "tree_id", "lft", "rght")


@dataclass
class PoolNumbers:
    """Pools (pk, name, kind, tree_id, lft, rght) in order and their (pool, feature) numbers."""

    pools: list[tuple]
    limit: dict[tuple[int, int], int]
    held: dict[tuple[int, int], int]
    used: dict[tuple[int, int], int]

    @cached_property
    def owners(self) -> dict[int, int | None]:
        """Each pool's nearest pool strictly above it, among these pools."""
        intervals = [(t, lft, rght, pk) for pk, _n, _k, t, lft, rght in self.pools]
        return PoolMap(intervals).assign(intervals, strict=True)

    def tops(self) -> set[int]:
        """The pools not inside another of these pools (one pass: they are in tree order)."""
        out, reach = set(), (None, -1)
        for pk, _n, _k, tree_id, lft, rght in self.pools:
            if tree_id != reach[0] or lft > reach[1]:
                out.add(pk)
                reach = (tree_id, rght)
        return out

    def rows_for(self, keys: set[tuple[int, int]], features: list[Feature]) -> list[UsageRow]:
        """UsageRows of these (pool, feature) pairs only, in order, without owners."""
        labels = {f.pk: (f.code, f.label) for f in features}
        out = []
        for pk, name, kind, _t, _l, _r in self.pools:
            for fid in labels:
                if (pk, fid) in keys:
                    code, label = labels[fid]
                    out.append(UsageRow(pk, name, kind, code, self.limit.get((pk, fid), 0),
                                        self.held.get((pk, fid), 0), self.used.get((pk, fid), 0), None, label))
        return out

    def rows(self, features: list[Feature], keep=None) -> list[UsageRow]:
        """UsageRows in order; keep(pool id, feature id, limit, held, used) chooses which."""
        owners = self.owners
        labels = [(f.pk, f.code, f.label) for f in features]
        out = []
        for pk, name, kind, _t, _l, _r in self.pools:
            for fid, code, label in labels:
                numbers = (self.limit.get((pk, fid), 0), self.held.get((pk, fid), 0), self.used.get((pk, fid), 0))
                if keep is None or keep(pk, fid, *numbers):
                    out.append(UsageRow(pk, name, kind, code, *numbers, owners.get(pk), label))
        return out


def pool_numbers(pools: Iterable[Group] | QuerySet[Group], on: date, features: list[Feature]) -> PoolNumbers:
    """The pools' limit, held and used per feature on `on`, from the stored totals
    (licenses.totals): three queries for any number of pools (a page of them, or a query)."""
    if isinstance(pools, QuerySet):
        which = {"pool_id__in": pools.values("pk")}
        pools = list(pools.values_list(*POOL_COLUMNS))
    else:
        pools = [(p.pk, p.name, p.kind, p.tree_id, p.lft, p.rght) for p in pools]
        which = {"pool_id__in": [p[0] for p in pools]}
    numbers = PoolNumbers(pools, {}, {}, {})
    if not pools:
        return numbers
    wanted = [f.pk for f in features]
    for pool_id, feature_id, capacity, carved in (
            PoolChangePoint.objects.filter(**which, day__lte=on, feature_id__in=wanted).values("pool_id", "feature_id")
            .annotate(c=Sum("capacity"), k=Sum("carved")).values_list("pool_id", "feature_id", "c", "k")):
        numbers.limit[(pool_id, feature_id)], numbers.held[(pool_id, feature_id)] = capacity or 0, carved or 0
    for pool_id, feature_id, residents in PoolUse.objects.filter(**which, feature_id__in=wanted).values_list(
            "pool_id", "feature_id", "residents"):
        numbers.used[(pool_id, feature_id)] = residents
    return numbers


def pool_rows(pools: Iterable[Group] | QuerySet[Group], on: date, features: list[Feature]) -> list[UsageRow]:
    """The rows of these pools, in their order (owner_id: the nearest of them strictly above)."""
    return pool_numbers(pools, on, features).rows(features)


def usage_totals(pools: QuerySet[Group], on: date, features: list[Feature]) -> dict[str, tuple[int, int, int]]:
    """feature label -> (limit, held, used) summed over `pools`, in the database (two queries)."""
    wanted = {f.pk: f for f in features}
    out = {f.label: [0, 0, 0] for f in features}
    for feature_id, capacity, carved in (
            PoolChangePoint.objects.filter(pool__in=pools.values("pk"), day__lte=on, feature_id__in=list(wanted))
            .values("feature_id").annotate(c=Sum("capacity"), k=Sum("carved")).values_list("feature_id", "c", "k")):
        out[wanted[feature_id].label][0:2] = [capacity or 0, carved or 0]
    for feature_id, residents in (PoolUse.objects.filter(pool__in=pools.values("pk"), feature_id__in=list(wanted))
                                  .values("feature_id").annotate(n=Sum("residents")).values_list("feature_id", "n")):
        out[wanted[feature_id].label][2] = residents or 0
    return {label: tuple(v) for label, v in out.items()}


def usage_rows(*, root: Group | None, on: date, scope: Q | None = None, groups_filter: Q | None = None,
               feature_codes: list[str] | None = None) -> list[UsageRow]:
    """One row per restricted group (in `root`'s subtree, in `scope`, matching `groups_filter`)
    and counted feature, from the stored totals, in three queries."""
    features = counted_features(feature_codes)
    return pool_rows(usage_pools(root=root, scope=scope, groups_filter=groups_filter), on, features)


__all__ = ["LicenseBlock", "UsageRow", "usage_rows", "USAGE_FIELDS"]
