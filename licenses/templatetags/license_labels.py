"""Words for the codes some pages show as they are (a block's state, a group's kind)."""

from dataclasses import dataclass
from datetime import date

from django import template
from django.db.models import Min, Sum
from django.utils.translation import pgettext_lazy

register = template.Library()

STATES = {
    "scheduled": pgettext_lazy("license block state", "scheduled"),
    "active": pgettext_lazy("license block state", "active"),
    "ending": pgettext_lazy("license block state", "ending"),
    "expired": pgettext_lazy("license block state", "expired"),
}

GROUP_KINDS = {
    "company": pgettext_lazy("group kind", "company"),
    "dealer": pgettext_lazy("group kind", "dealer"),
    "site": pgettext_lazy("group kind", "site"),
    "building": pgettext_lazy("group kind", "building"),
    "unit": pgettext_lazy("group kind", "unit"),
    "floor": pgettext_lazy("group kind", "floor"),
    "apartment": pgettext_lazy("group kind", "apartment"),
    "custom": pgettext_lazy("group kind", "custom"),
}


@register.filter
def state_label(code: str) -> str:
    """A block's state ("active", "ending"…) in the current language; unknown codes as they are."""
    return STATES.get(code, code)


@register.filter
def group_kind_code_label(code: str) -> str:
    """A group kind's code ("site"…) in the current language, lowercase as the code."""
    return GROUP_KINDS.get(code, code)


@dataclass(frozen=True)
class TreeFacts:
    """What a row of the tree says about a group's licenses."""

    restricted: bool
    feature: str = ""  # the main counted feature's name
    limit: int = 0
    taken: int = 0  # held by sub-groups and used by residents
    next_end: date | None = None  # the nearest end of its own blocks from today

    @property
    def percent(self) -> int:
        return min(round(100 * self.taken / self.limit), 100) if self.limit else (100 if self.taken else 0)


@register.simple_tag
def tree_facts(groups) -> dict[int, TreeFacts]:
    """For a page of the tree: group id -> its pool (own or shared), the use of the main counted
    feature (the catalogue's first) and its next block end; five queries whatever the page."""
    from licenses.models import Feature, LicenseBlock, PoolChangePoint, PoolSettings, PoolUse
    from licenses.services import today

    ids = [g.pk for g in groups]
    if not ids:
        return {}
    on = today()
    restricted = set(PoolSettings.objects.filter(group_id__in=ids, restricted=True).values_list("group_id", flat=True))
    main = Feature.objects.filter(kind=Feature.Kind.COUNTED).order_by("position", "code").first()
    limit, taken = {}, {}
    if main is not None and restricted:
        for pool_id, capacity, carved in (PoolChangePoint.objects.filter(pool_id__in=restricted, feature=main,
                                                                         day__lte=on)
                                          .values("pool_id").annotate(c=Sum("capacity"), k=Sum("carved"))
                                          .values_list("pool_id", "c", "k")):
            limit[pool_id], taken[pool_id] = capacity or 0, carved or 0
        for pool_id, residents in PoolUse.objects.filter(pool_id__in=restricted, feature=main).values_list(
                "pool_id", "residents"):
            taken[pool_id] = taken.get(pool_id, 0) + residents
    ends = dict(LicenseBlock.objects.filter(group_id__in=ids, valid_until__gte=on).own()
                .values("group_id").annotate(m=Min("valid_until")).values_list("group_id", "m"))
    return {pk: TreeFacts(pk in restricted, main.label if main else "", limit.get(pk, 0), taken.get(pk, 0),
                          ends.get(pk)) for pk in ids}


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def feature_help(code: str) -> str:
    """What a feature lets a resident do, in the reader's language ("" for a feature without one)."""
    from licenses.selectors import FEATURE_HELP

    return FEATURE_HELP.get(code, "")
