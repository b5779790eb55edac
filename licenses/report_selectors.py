"""The reports and the dashboard: scoped, in a constant number of queries whatever the rows."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from groups.models import ADMIN_ROLES, Group, Membership, User
from groups.scoping import scope_ranges_q, scope_top_groups

from . import pools
from .models import Feature, LicenseBlock, PoolChangePoint, PoolUse, state_annotation
from .reports import (
    UsageRow,
    counted_features,
    pool_numbers,
    pool_rows,
    usage_pools,
    usage_rows,
    usage_totals,
)


def scope_ranges(user: User, subtree: Group | None = None) -> Q | None:
    """The person's scope as ranges of the tree (None: everything), or a subtree of it."""
    if subtree is not None:  # already checked to be visible
        return Q(tree_id=subtree.tree_id, lft__gte=subtree.lft, rght__lte=subtree.rght)
    return None if user.is_superuser else scope_ranges_q(user)


def scoped_usage_rows(*, user: User, on: date, subtree: Group | None = None, **filters) -> list[UsageRow]:
    """usage_rows over the person's scope (or a subtree of it)."""
    return usage_rows(root=None, on=on, scope=scope_ranges(user, subtree), **filters)


@dataclass
class Usage:
    """The usage report's pools (a query, paginated in the database) and how to make their rows."""

    pools: QuerySet[Group]
    features: list[Feature]
    on: date
    only_in_use: bool

    def rows(self, pools) -> list[UsageRow]:
        rows = pool_rows(pools, self.on, self.features)
        return [r for r in rows if r.held or r.used] if self.only_in_use else rows

    def all_rows(self) -> list[UsageRow]:
        """Every row (the CSV): the pools and their totals in three queries."""
        return self.rows(self.pools)

    def totals(self) -> "dict[str, Totals]":
        return {label: Totals(*numbers) for label, numbers in usage_totals(self.pools, self.on, self.features).items()}


def usage(*, user: User, on: date, subtree: Group | None = None, kind: str = "", administrator: str = "",
          feature: str = "", show: str = "all") -> Usage:
    groups_filter = Q()
    if kind:
        groups_filter &= Q(kind=kind)
    if administrator:
        # Pools inside the subtrees the named person administers.
        held = Membership.objects.filter(user__email__icontains=administrator.strip(), role__in=list(ADMIN_ROLES))
        roots = list(held.values_list("group__tree_id", "group__lft", "group__rght")[:200])
        q = Q(pk__in=[])
        for tree_id, lft, rght in roots:
            q |= Q(tree_id=tree_id, lft__gte=lft, rght__lte=rght)
        groups_filter &= q
    pools = usage_pools(scope=scope_ranges(user, subtree), groups_filter=groups_filter).only(
        "pk", "name", "kind", "tree_id", "lft", "rght")
    features = counted_features([feature] if feature else None)
    if show == "any":
        # Pools that hand out or serve anything of the features on the day, decided in the database.
        wanted = [f.pk for f in features]
        handing = (PoolChangePoint.objects.filter(day__lte=on, feature_id__in=wanted).values("pool_id")
                   .annotate(k=Sum("carved")).filter(k__gt=0).values("pool_id"))
        serving = PoolUse.objects.filter(residents__gt=0, feature_id__in=wanted).values("pool_id")
        pools = pools.filter(Q(pk__in=handing) | Q(pk__in=serving))
    return Usage(pools=pools, features=features, on=on, only_in_use=show == "any")


@dataclass
class Totals:
    limit: int = 0
    held: int = 0
    used: int = 0

    @property
    def available(self) -> int:
        return self.limit - self.held - self.used


def totals_by_feature(rows: list[UsageRow]) -> dict[str, Totals]:
    out: dict[str, Totals] = defaultdict(Totals)
    for r in rows:
        t = out[r.feature_name or r.feature]
        t.limit, t.held, t.used = t.limit + r.limit, t.held + r.held, t.used + r.used
    return dict(out)


def validity(*, user: User, on: date, date_field: str = "valid_until", date_op: str = "", day: date | None = None,
             state: str = "", kind: str = "", group: str = "") -> QuerySet[LicenseBlock]:
    qs = (LicenseBlock.objects.filter(scope_ranges_q(user, prefix="group__")).own()
          .select_related("group").annotate(state=state_annotation(on)))
    if date_op and day and date_field in ("valid_until", "valid_from"):
        lookup = {"eq": "", "lt": "__lt", "gt": "__gt"}[date_op]
        qs = qs.filter(**{f"{date_field}{lookup}": day})
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    if group:
        qs = qs.filter(group__name__icontains=group.strip())
    return qs.order_by("valid_until", "pk")


# --- dashboard --------------------------------------------------------------------------


@dataclass
class FeatureUse:
    feature: str
    label: str
    capacity: int
    used: int

    @property
    def percent(self) -> int:
        return min(round(100 * self.used / self.capacity), 100) if self.capacity else 0


@dataclass
class Dashboard:
    features: list[FeatureUse] = field(default_factory=list)
    unlimited: bool = False
    expiry_weeks: list[tuple[date, int]] = field(default_factory=list)
    expiring: list[LicenseBlock] = field(default_factory=list)
    nearly_exhausted: list[UsageRow] = field(default_factory=list)
    threshold: int = 90


def dashboard(*, user: User, on: date) -> Dashboard:
    board = Dashboard(threshold=settings.DASHBOARD_USAGE_THRESHOLD)
    features = counted_features()
    numbers = pool_numbers(usage_pools(scope=scope_ranges(user)), on, features)
    visible_pools = {pk for pk, *_rest in numbers.pools}
    threshold = board.threshold
    features_by_pk = {f.pk for f in features}
    # The highest pools in scope: their capacity is what the person has; use is what they hand out.
    tops = numbers.tops()
    top = numbers.rows_for({(pk, f) for pk in tops for f in features_by_pk}, features)
    # Nearly used up: read off the numbers, rows made only for those shown.
    nearly = {key for key, limit in numbers.limit.items()
              if limit and 100 * (numbers.held.get(key, 0) + numbers.used.get(key, 0)) >= (threshold - 0.5) * limit}
    exhausted = numbers.rows_for(nearly, features)
    # Where the top of one's scope shares a pool from above (a site in its dealer's pool), that
    # pool is what limits them, as the group's Licenses page says: count it (a query or two per
    # group one holds a role in, never per row).
    for group in scope_top_groups(user):
        pool = pools.serving_pool(group)
        if pool is not None and pool.pk not in visible_pools:
            shared = usage_rows(root=pool, on=on, groups_filter=Q(pk=pool.pk))
            top += shared
            exhausted += [r for r in shared if r.percent_used is not None and r.percent_used >= threshold]
            visible_pools.add(pool.pk)
    per_feature: dict[str, FeatureUse] = {f.code: FeatureUse(f.code, f.label, 0, 0) for f in features}
    for r in top:
        use = per_feature[r.feature]
        use.capacity += r.limit
        use.used += r.held + r.used
    board.features = list(per_feature.values())
    board.unlimited = not visible_pools
    board.nearly_exhausted = sorted(
        (r for r in exhausted if r.percent_used is not None and r.percent_used >= threshold),
        key=lambda r: -(r.percent_used or 0))[:20]
    horizon = on + timedelta(days=90)
    ending = (LicenseBlock.objects.filter(scope_ranges_q(user, prefix="group__"),
                                          valid_until__gte=on, valid_until__lte=horizon).own()
              .select_related("group").order_by("valid_until", "pk"))
    weeks: dict[date, int] = {on + timedelta(days=7 * i): 0 for i in range(13)}
    for valid_until, n in ending.order_by().values("valid_until").annotate(n=Count("pk")).values_list(
            "valid_until", "n"):
        week = on + timedelta(days=7 * ((valid_until - on).days // 7))
        weeks[week] = weeks.get(week, 0) + n
    board.expiry_weeks = sorted(weeks.items())
    board.expiring = list(ending[:20])
    return board
