"""Moves and deletions of groups, checked against the pools they touch."""


from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from groups.models import Group
from groups.scoping import Actor

from .. import pools, totals
from ._base import NeedsConfirmation, PoolChange, shortfall_message, today
from .suspension import _resolve


def tree_change_check(event: str, group: Group, new_parent: Group | None, *, actor: Actor, confirm: bool = False):
    """Called by groups.services before a move or delete: refuse what would break a pool.

    A move that leaves only residents short in the pool that takes them over asks for
    confirmation, as a lowering does, and suspends them (newest first) once confirmed.
    """
    on = today()
    old_pool = pools.serving_pool(group.parent) if group.parent_id else None
    new_pool = pools.serving_pool(new_parent) if new_parent is not None else None
    if old_pool is None and new_pool is None:
        return None
    change = PoolChange([old_pool, new_pool], on=on)

    def after() -> None:
        after_pools = [p for p in (old_pool, new_pool) if p is not None]
        totals.rebuild(after_pools)  # who serves the moved or deleted subtree changed: recount both
        if event == "move" and new_pool is not None:
            try:
                _resolve(change, after_pools, confirm=confirm, actor=actor, residents_moved_to=new_pool)
            except NeedsConfirmation as exc:
                raise NeedsConfirmation(_("This move would break a pool:") + " " + exc.messages[0], exc.grants) from exc
            except ValidationError as exc:
                raise ValidationError({"new_parent": [_("This move would break a pool:"), *exc.messages]}) from exc
            return
        shortfalls = change.shortfalls(after_pools)
        if shortfalls:
            field = "new_parent" if event == "move" else None
            messages = [shortfall_message(s, facts) for s, facts in shortfalls]
            prefix = (_("This move would break a pool:") if event == "move"
                      else _("Deleting this group would break a pool:"))
            messages.insert(0, prefix)
            raise ValidationError({field: messages} if field else messages)

    return after
