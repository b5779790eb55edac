"""Moves and deletions of groups, checked against the pools they touch."""


from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from groups.models import Group

from .. import pools
from ._base import PoolChange, shortfall_message, today

# --- the tree's moves and deletions -----------------------------------------------------


def tree_change_check(event: str, group: Group, new_parent: Group | None):
    """Called by groups.services before a move or delete: refuse what would break a pool."""
    on = today()
    old_pool = pools.serving_pool(group.parent) if group.parent_id else None
    new_pool = pools.serving_pool(new_parent) if new_parent is not None else None
    if old_pool is None and new_pool is None:
        return None
    change = PoolChange([old_pool, new_pool], on=on)

    def after() -> None:
        shortfalls = change.shortfalls([p for p in (old_pool, new_pool) if p is not None])
        if shortfalls:
            field = "new_parent" if event == "move" else None
            messages = [shortfall_message(s, e) for s, e in shortfalls]
            prefix = (_("This move would break a pool:") if event == "move"
                      else _("Deleting this group would break a pool:"))
            messages.insert(0, prefix)
            raise ValidationError({field: messages} if field else messages)

    return after
