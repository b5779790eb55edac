"""Names in templates, within the reader's scope."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from groups.scoping import can_manage, can_view, groups_manageable_by

register = template.Library()


@register.filter
def name_for(group, user) -> str:
    """The group's name if `user` may see the group; else a phrase that names nothing above their scope."""
    if group is None:
        return ""
    return group.name if can_view(user, group) else _("a group above your scope")


# The Edit window's sections, each its own page: (key, label, URL name, who may open it).
SECTIONS = [
    ("general", gettext_lazy("General"), "groups:edit", "manage"),
    ("licenses", gettext_lazy("Licenses"), "licenses:group_licenses", "view"),
    ("devices", gettext_lazy("Devices"), "licenses:devices", "view"),
    ("people", gettext_lazy("People"), "groups:members", "manage"),
    ("history", gettext_lazy("History"), "licenses:group_history", "view"),
]
CURRENT = {"edit": "general", "detail": "general", "group_licenses": "licenses", "devices": "devices",
           "members": "people", "group_history": "history"}


@register.inclusion_tag("groups/_sections.html", takes_context=True)
def group_sections(context, group):
    """Tabs over a group's sections, the current one marked; those the person may not open are not
    offered (General then opens the group's read-only page)."""
    request = context["request"]
    manage = can_manage(request.user, group)
    match = getattr(request, "resolver_match", None)
    current = CURRENT.get(match.url_name if match else "", "")
    tabs = []
    for key, label, url_name, need in SECTIONS:
        if need == "manage" and not manage:
            if key != "general":
                continue
            url_name = "groups:detail"
        tabs.append({"key": key, "label": label, "url": reverse(url_name, args=[group.pk]),
                     "active": key == current})
    return {"tabs": tabs, "group": group}


@register.simple_tag(takes_context=True)
def node_actions(context, groups):
    """For a page of the tree: group id -> what the person may do there (edit, move, generate,
    delete), in a constant number of queries. Only these actions are offered."""
    from groups.services import deletions_refused

    user = context["request"].user
    groups = list(groups)
    manageable = set(groups_manageable_by(user).filter(pk__in=[g.pk for g in groups]).values_list("pk", flat=True))
    refused = deletions_refused(groups=groups, actor=user)
    return {g.pk: {"manage": g.pk in manageable, "move": g.pk in manageable and g.parent_id is not None,
                   "generate": g.pk in manageable and g.can_hold_children, "delete": refused[g.pk] is None}
            for g in groups}
