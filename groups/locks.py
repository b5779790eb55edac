"""Transaction-wide locks that serialise writers of one company tree.

django-mptt leaves locking to its callers: two inserts into one tree at once corrupt the
nested sets. Every tree write takes the company's lock exclusively; license writes take it
shared (so a move cannot change who serves whom under them) plus the pools they touch.
On SQLite, IMMEDIATE transactions already serialise all writers.
"""

from collections.abc import Iterable

from django.db import connection, transaction

TREE_NAMESPACE = 7301
POOL_NAMESPACE = 7302
ROOTS_KEY = 0  # creating a company picks a new tree_id: one at a time across companies


def _require_atomic() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("locks are transaction-wide: call inside transaction.atomic()")


def lock_tree(tree_id: int, *, shared: bool = False) -> None:
    _require_atomic()
    if connection.vendor == "postgresql":
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {fn}(%s, %s)", [TREE_NAMESPACE, tree_id])


def lock_new_roots() -> None:
    lock_tree(ROOTS_KEY)


def lock_pools(group_ids: Iterable[int]) -> None:
    """Exclusive locks on pool owners, always taken in id order so writers never deadlock."""
    _require_atomic()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for group_id in sorted(set(group_ids)):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [POOL_NAMESPACE, group_id])
