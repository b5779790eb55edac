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


def chains(group_ids) -> dict[int, list[int]]:
    """For each of these groups, its id and its ancestors' ids, nearest first: one recursive query
    for them all (O(depth) rows each)."""
    from django.db import connection

    ids = sorted(set(group_ids))
    if not ids:
        return {}
    table = connection.ops.quote_name(Group._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE chain(start, id, parent_id, depth) AS ("
            f" SELECT id, id, parent_id, 0 FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})"
            f" UNION ALL SELECT c.start, g.id, g.parent_id, c.depth + 1 FROM {table} g JOIN chain c ON g.id = c.parent_id"
            f") SELECT start, id, depth FROM chain", ids)
        rows = cursor.fetchall()
    out: dict[int, list[tuple[int, int]]] = {}
    for start, group_id, depth in rows:
        out.setdefault(start, []).append((depth, group_id))
    return {start: [g for _d, g in sorted(chain)] for start, chain in out.items()}
