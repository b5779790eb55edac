"""Words for the codes some pages show as they are (a block's state, a group's kind)."""

from django import template
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
