"""Generate groups in bulk: the nested-set arithmetic for a whole new subtree, in one transaction."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, When
from django.utils import timezone
from django.utils.translation import gettext as _

from ..locks import lock_tree
from ..models import Group
from ..scoping import Actor, audit_user
from .tree import _require_manage

MAX_GENERATED_GROUPS = 200_000


@dataclass(frozen=True)
class GenerationPlan:
    """Generate groups: N buildings × M units × K floors × J apartments per floor."""

    buildings: int
    units: int  # 0 = floors sit directly in buildings
    floors: int
    apartments_per_floor: int
    building_start: int = 1
    unit_start: int = 1
    floor_start: int = 1
    apartment_start: int = 1
    building_pattern: str = "Building {n}"
    unit_pattern: str = "Unit {n}"
    floor_pattern: str = "Floor {n}"
    apartment_pattern: str = "Apartment {n}"

    @property
    def total(self) -> int:
        units = max(self.units, 1)
        per_floor = 1 + self.apartments_per_floor
        per_unit = (1 if self.units else 0) + self.floors * per_floor
        return self.buildings * (1 + units * per_unit)


def _render_pattern(pattern: str, n: int, field: str) -> str:
    try:
        return pattern.format(n=n)
    except (KeyError, IndexError, ValueError, AttributeError):
        raise ValidationError(
            {field: _("Use {n} for the number, for example “Building {n}”.")}
        ) from None


def validate_generation_plan(plan: GenerationPlan) -> None:
    errors = {}
    for field in ("buildings", "floors", "apartments_per_floor"):
        if getattr(plan, field) < 1:
            errors[field] = _("Enter 1 or more.")
    if plan.units < 0:
        errors["units"] = _("Enter 0 (no units) or more.")
    for field in ("building_start", "unit_start", "floor_start", "apartment_start"):
        if getattr(plan, field) < 0:
            errors[field] = _("Enter 0 or more.")
    if errors:
        raise ValidationError(errors)
    if plan.total > MAX_GENERATED_GROUPS:
        raise ValidationError(
            _("That makes %(total)s groups; at most %(max)s can be generated at once.")
            % {"total": plan.total, "max": MAX_GENERATED_GROUPS}
        )
    for field in ("building_pattern", "unit_pattern", "floor_pattern", "apartment_pattern"):
        name = _render_pattern(getattr(plan, field), 1, field)
        if not name.strip():
            raise ValidationError({field: _("The name pattern gives an empty name.")})


@transaction.atomic
def groups_generate(*, parent: Group, plan: GenerationPlan, actor: Actor) -> int:
    """Create a whole site layout under `parent` in one transaction; returns how many groups.

    mptt's one-node-at-a-time inserts and rebuild() are far too slow for thousands of
    groups, so this computes the new subtree's nested-set columns itself, shifts the rest of
    the tree once, and inserts depth by depth (parents need their ids first).
    """
    validate_generation_plan(plan)
    lock_tree(parent.tree_id)
    parent.refresh_from_db()
    _require_manage(actor, parent)
    if not parent.can_hold_children:
        raise ValidationError({"parent": _("An apartment holds residents and devices, not groups.")})

    size = plan.total
    start = parent.rght  # the new subtree fills [start, start + 2 * size - 1]
    # One UPDATE touches each row to the right once (rows with lft > start are among those with
    # rght >= start): on PostgreSQL every row written is a new row version.
    Group.objects.filter(tree_id=parent.tree_id, rght__gte=start).update(
        rght=F("rght") + 2 * size, lft=Case(When(lft__gt=start, then=F("lft") + 2 * size), default=F("lft"),
                                           output_field=Group._meta.get_field("lft")))
    levels = layout_rows(plan, start=start, base_level=parent.level + 1, parent_lft=parent.lft)
    insert_rows(levels, tree_id=parent.tree_id, parent=parent, user=audit_user(actor))
    return size


@dataclass
class Row:
    """One new group: its nested-set place, and its parent's lft (its id is known only once inserted)."""

    name: str
    kind: str
    number: str
    lft: int
    rght: int
    level: int
    parent_lft: int


def layout_rows(plan: GenerationPlan, *, start: int, base_level: int, parent_lft: int) -> list[list[Row]]:
    """The plan's groups by depth (buildings, units, floors, apartments), with the nested-set
    columns of a subtree that fills [start, start + 2 * total - 1], in tree order."""
    levels: list[list[Row]] = [[], [], [], []]
    cursor = start
    per_floor = plan.apartments_per_floor
    per_unit = plan.floors * (1 + per_floor)
    unit_levels = 1 if plan.units else 0

    def node(depth_list: int, kind: str, name: str, number: int, depth: int, size_below: int, up: int) -> Row:
        nonlocal cursor
        row = Row(name, kind, str(number), cursor, cursor + 2 * size_below + 1, base_level + depth, up)
        levels[depth_list].append(row)
        cursor += 1
        return row

    for b in range(plan.buildings):
        b_num = plan.building_start + b
        building = node(0, Group.Kind.BUILDING, _render_pattern(plan.building_pattern, b_num, "building_pattern"),
                        b_num, 0, (plan.units or 1) * (unit_levels + per_unit), parent_lft)
        apartment_no = plan.apartment_start
        for u in range(plan.units or 1):
            above = building
            if plan.units:
                u_num = plan.unit_start + u
                above = node(1, Group.Kind.UNIT, _render_pattern(plan.unit_pattern, u_num, "unit_pattern"),
                             u_num, 1, per_unit, building.lft)
            for f in range(plan.floors):
                f_num = plan.floor_start + f
                floor = node(2, Group.Kind.FLOOR, _render_pattern(plan.floor_pattern, f_num, "floor_pattern"),
                             f_num, unit_levels + 1, per_floor, above.lft)
                for _a in range(per_floor):
                    node(3, Group.Kind.APARTMENT,
                         _render_pattern(plan.apartment_pattern, apartment_no, "apartment_pattern"),
                         apartment_no, unit_levels + 2, 0, floor.lft)
                    apartment_no += 1
                    cursor += 1  # the apartment's rght
                cursor += 1  # the floor's rght
            if plan.units:
                cursor += 1  # the unit's rght
        cursor += 1  # the building's rght
    assert cursor == start + 2 * plan.total, (cursor, start, plan.total)
    return [rows for rows in levels if rows]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def insert_rows(levels: list[list[Row]], *, tree_id: int, parent: Group, user) -> None:
    """Insert the groups depth by depth with executemany (a parent's id is read back by its lft,
    unique in the tree), then their history rows ("created", by `user`) the same way.

    Plain statements (COPY on PostgreSQL), not bulk_create: building a model instance and
    compiling every value for 100,000 groups cost several times the inserts themselves."""
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    ids = {parent.lft: parent.pk}
    group_columns = ("name", "kind", "number", "description", "parent_id", "created_at", "lft", "rght", "tree_id",
                     "level")
    history_columns = ("id", "name", "kind", "number", "description", "created_at", "parent_id", "history_date",
                       "history_change_reason", "history_type", "history_user_id")
    history = []
    with connection.cursor() as cursor:
        for rows in levels:
            _insert(cursor, Group, group_columns,
                    [(r.name, r.kind, r.number, "", ids[r.parent_lft], now, r.lft, r.rght, tree_id, r.level)
                     for r in rows])
            cursor.execute(f"SELECT lft, id FROM {_table(Group)} WHERE tree_id = %s AND level = %s "
                           f"AND lft >= %s AND lft <= %s", [tree_id, rows[0].level, rows[0].lft, rows[-1].lft])
            made = dict(cursor.fetchall())
            ids.update(made)
            history += [(made[r.lft], r.name, r.kind, r.number, "", now, ids[r.parent_lft], now, None, "+",
                         getattr(user, "pk", None)) for r in rows]
        _insert(cursor, Group.history.model, history_columns, history)


def _insert(cursor, model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Many rows at once: COPY on PostgreSQL (executemany sends a statement a row), executemany
    on SQLite (in process, it is as fast)."""
    if connection.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {_table(model)} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor.executemany(f"INSERT INTO {_table(model)} ({', '.join(columns)}) "
                       f"VALUES ({', '.join(['%s'] * len(columns))})", rows)
