from groups.models import Group


def nested_sets_match_parents(tree_id: int) -> bool:
    """Recompute lft/rght/level from the parent links and compare with what is stored."""
    rows = list(Group.objects.filter(tree_id=tree_id).values("pk", "parent_id", "lft", "rght", "level"))
    children: dict = {}
    for r in rows:
        children.setdefault(r["parent_id"], []).append(r)
    for siblings in children.values():
        siblings.sort(key=lambda r: r["lft"])
    expected = {}
    counter = 0
    stack = [(children.get(None, [None])[0], 0, False)]
    if len(children.get(None, [])) != 1:
        return False
    while stack:
        node, level, done = stack.pop()
        if done:
            counter += 1
            expected[node["pk"]] = (expected[node["pk"]], counter, level)
            continue
        counter += 1
        expected[node["pk"]] = counter
        stack.append((node, level, True))
        for child in reversed(children.get(node["pk"], [])):
            stack.append((child, level + 1, False))
    return all(expected[r["pk"]] == (r["lft"], r["rght"], r["level"]) for r in rows)
