"""License usage per pool, computed for many groups at once in a constant number of queries.

Every group is mapped to the pool that serves it with one sweep over restricted groups sorted
by (tree_id, lft): a stack of the open restricted intervals, innermost on top.
"""

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date

from django.db.models import Q, Sum

from groups.models import Group

from .models import BlockFeature, Feature, GrantFeature, LicenseBlock, PoolSettings

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


def usage_rows(*, root: Group | None, on: date, scope: Q | None = None, groups_filter: Q | None = None,
               feature_codes: list[str] | None = None) -> list[UsageRow]:
    """One row per restricted group (in `root`'s subtree, in `scope`, matching `groups_filter`)
    and counted feature, in a constant number of queries whatever the number of groups."""
    groups = Group.objects.all()
    if root is not None:
        groups = groups.filter(tree_id=root.tree_id, lft__gte=root.lft, rght__lte=root.rght)
    if scope is not None:
        groups = groups.filter(scope)
    if groups_filter is not None:
        groups = groups.filter(groups_filter)
    trees = {root.tree_id} if root is not None else None
    restricted_ids = PoolSettings.objects.filter(restricted=True).values("group_id")
    all_restricted = Group.objects.filter(pk__in=restricted_ids)
    if trees:
        all_restricted = all_restricted.filter(tree_id__in=trees)
    restricted = list(all_restricted.values_list("tree_id", "lft", "rght", "pk"))
    pool_map = PoolMap(restricted)
    shown = dict(groups.filter(pk__in=restricted_ids).values_list("pk", "name"))
    kinds = dict(groups.filter(pk__in=restricted_ids).values_list("pk", "kind"))
    features = list(Feature.objects.filter(kind=Feature.Kind.COUNTED))
    if feature_codes:
        features = [f for f in features if f.code in feature_codes]
    valid = Q(block__valid_from__lte=on) & (Q(block__valid_until__isnull=True) | Q(block__valid_until__gte=on))
    tree_q = Q(block__group__tree_id__in=trees) if trees else Q()

    capacity: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    held: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    used: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    own = (BlockFeature.objects.filter(valid, tree_q, block__device__isnull=True, block__group_id__in=restricted_ids)
           .values("block__group_id", "block__group__tree_id", "block__group__lft", "block__group__rght", "feature_id")
           .annotate(total=Sum("quantity")))
    own_rows = list(own)
    owners = pool_map.assign([(r["block__group__tree_id"], r["block__group__lft"], r["block__group__rght"], i)
                              for i, r in enumerate(own_rows)], strict=True)
    for i, r in enumerate(own_rows):
        capacity[r["block__group_id"]][r["feature_id"]] += r["total"]
        if owners[i] is not None:
            held[owners[i]][r["feature_id"]] += r["total"]

    devices = list(BlockFeature.objects.filter(valid, tree_q, block__device__isnull=False)
                   .values("block__group__tree_id", "block__group__lft", "block__group__rght", "feature_id")
                   .annotate(total=Sum("quantity")))
    serving = pool_map.assign([(r["block__group__tree_id"], r["block__group__lft"], r["block__group__rght"], i)
                               for i, r in enumerate(devices)])
    for i, r in enumerate(devices):
        if serving[i] is not None:
            capacity[serving[i]][r["feature_id"]] += r["total"]

    grant_tree_q = Q(grant__group__tree_id__in=trees) if trees else Q()
    grants = list(GrantFeature.objects.filter(grant_tree_q, grant__suspended_at__isnull=True)
                  .values("grant__group__tree_id", "grant__group__lft", "grant__group__rght", "feature_id")
                  .annotate(total=Sum("quantity")))
    serving = pool_map.assign([(r["grant__group__tree_id"], r["grant__group__lft"], r["grant__group__rght"], i)
                               for i, r in enumerate(grants)])
    for i, r in enumerate(grants):
        if serving[i] is not None:
            used[serving[i]][r["feature_id"]] += r["total"]

    rows = []
    order = {pk: (t, lft, r) for t, lft, r, pk in restricted}
    pool_owner = pool_map.assign([(*order[pk], pk) for pk in shown if pk in order], strict=True)
    for pk in sorted(shown, key=lambda p: order.get(p, (0, 0, 0))):
        for f in features:
            rows.append(UsageRow(pk, shown[pk], kinds[pk], f.code, capacity[pk][f.pk], held[pk][f.pk], used[pk][f.pk],
                                 pool_owner.get(pk), f.label))
    return rows


__all__ = ["LicenseBlock", "UsageRow", "usage_rows", "USAGE_FIELDS"]
