"""Check a tree's nested-set columns against its parent links (what mptt's rebuild would give)."""

from groups.models import Group


def tree_problems(tree_id: int) -> list[str]:
    rows = list(Group.objects.filter(tree_id=tree_id).values_list("pk", "parent_id", "lft", "rght", "level"))
    children: dict = {}
    stored = {}
    for pk, parent_id, lft, rght, level in rows:
        children.setdefault(parent_id, []).append((lft, pk))
        stored[pk] = (lft, rght, level)
    roots = children.get(None, [])
    if len(roots) != 1:
        return [f"tree {tree_id} has {len(roots)} roots"]
    for siblings in children.values():
        siblings.sort()
    expected: dict = {}
    counter = 0
    stack = [(roots[0][1], 0, False)]
    while stack:
        pk, level, closing = stack.pop()
        counter += 1
        if closing:
            expected[pk] = (expected[pk], counter, level)
            continue
        expected[pk] = counter
        stack.append((pk, level, True))
        for _lft, child in reversed(children.get(pk, [])):
            stack.append((child, level + 1, False))
    problems = []
    for pk, values in stored.items():
        if pk not in expected:
            problems.append(f"group {pk} in tree {tree_id} is not reachable from the root")
        elif expected[pk] != values:
            problems.append(f"group {pk}: stored lft/rght/level {values}, parent links give {expected[pk]}")
    return problems


def all_tree_problems() -> list[str]:
    problems = []
    for tree_id in Group.objects.filter(parent__isnull=True).values_list("tree_id", flat=True):
        problems += tree_problems(tree_id)
    return problems
