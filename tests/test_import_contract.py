"""Dependencies point one way: notifications → licenses → groups. groups imports neither
licenses nor notifications; licenses does not import notifications (not even a task by its
name): what they need of a later app comes through hooks (register_tree_change_check,
licenses.services.reminder_due) and template tags."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"groups": {"licenses", "notifications"}, "licenses": {"notifications"}}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module this file imports, and every string that names a module of an app."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value \
                and " " not in node.value:
            found.append((node.lineno, node.value))  # "notifications.tasks.send_…": an import by name
    return found


def violations(app: str, forbidden: set[str], root: Path = ROOT) -> list[str]:
    out = []
    for path in sorted((root / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, module in _imports(path):
            if module.split(".")[0] in forbidden:
                out.append(f"{path.relative_to(root)}:{line} uses {module}")
    return out


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_dependencies_point_one_way(app):
    assert violations(app, FORBIDDEN[app]) == []


def test_the_check_sees_an_import_and_a_task_named_by_string(tmp_path):
    """The contract can fail: a file that imports notifications, or names its task, is reported."""
    app = tmp_path / "licenses"
    app.mkdir()
    (app / "bad.py").write_text('from notifications.models import Notification\n'
                                'import notifications.tasks\n'
                                'send("notifications.tasks.send_license_reminders")\n')
    assert violations("licenses", {"notifications"}, root=tmp_path) == [
        "licenses/bad.py:1 uses notifications.models", "licenses/bad.py:2 uses notifications.tasks",
        "licenses/bad.py:3 uses notifications.tasks.send_license_reminders"]
