"""Names in templates, within the reader's scope."""

from django import template
from django.utils.translation import gettext as _

from groups.scoping import can_view

register = template.Library()


@register.filter
def name_for(group, user) -> str:
    """The group's name if `user` may see the group; else a phrase that names nothing above their scope."""
    if group is None:
        return ""
    return group.name if can_view(user, group) else _("a group above your scope")
