"""A group's ancestors by their parent links: one recursive query that visits only the chain
(O(depth)), where a nested-set range (lft <= x <= rght) scans every group to its left."""

from django.db.models.expressions import RawSQL

from .models import Group


def chain_ids(group_id: int | None, *, include_self: bool = True) -> RawSQL:
    """The ids of the group (or not) and of all its ancestors, as a subquery for `pk__in=`."""
    table = Group._meta.db_table
    start = "id = %s" if include_self else f"id = (SELECT parent_id FROM {table} WHERE id = %s)"
    return RawSQL(
        f"WITH RECURSIVE chain(id, parent_id) AS ("
        f" SELECT id, parent_id FROM {table} WHERE {start}"
        f" UNION ALL SELECT g.id, g.parent_id FROM {table} g JOIN chain c ON g.id = c.parent_id"
        f") SELECT id FROM chain",
        [group_id],
    )
