"""Generate groups in bulk: the nested-set arithmetic for a whole new subtree, in one transaction."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

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
    the tree once, and inserts level by level (parents need their ids first).
    """
    validate_generation_plan(plan)
    lock_tree(parent.tree_id)
    parent.refresh_from_db()
    _require_manage(actor, parent)
    if not parent.can_hold_children:
        raise ValidationError({"parent": _("An apartment holds residents and devices, not groups.")})

    size = plan.total
    start = parent.rght  # the new subtree fills [start, start + 2 * size - 1]
    Group.objects.filter(tree_id=parent.tree_id, rght__gte=start).update(rght=F("rght") + 2 * size)
    Group.objects.filter(tree_id=parent.tree_id, lft__gt=start).update(lft=F("lft") + 2 * size)

    # levels[i] holds (Group, index of its parent in levels[i-1] or None).
    levels: list[list[tuple[Group, int | None]]] = [[], [], [], []]
    cursor = start
    base_level = parent.level + 1

    def node(kind: str, name: str, number: int, depth: int, parent_index: int | None, size_below: int) -> Group:
        nonlocal cursor
        group = Group(
            name=name, kind=kind, number=str(number), tree_id=parent.tree_id,
            level=base_level + depth, lft=cursor, rght=cursor + 2 * size_below + 1,
        )
        cursor += 1
        return group

    per_floor = plan.apartments_per_floor
    per_unit = plan.floors * (1 + per_floor)
    unit_levels = 1 if plan.units else 0
    for b in range(plan.buildings):
        b_num = plan.building_start + b
        building_size = (plan.units or 1) * (unit_levels + per_unit)
        building = node(Group.Kind.BUILDING, _render_pattern(plan.building_pattern, b_num, "building_pattern"),
                        b_num, 0, None, building_size)
        levels[0].append((building, None))
        apartment_no = plan.apartment_start
        for u in range(plan.units or 1):
            unit_index = None
            if plan.units:
                u_num = plan.unit_start + u
                unit = node(Group.Kind.UNIT, _render_pattern(plan.unit_pattern, u_num, "unit_pattern"),
                            u_num, 1, len(levels[0]) - 1, per_unit)
                levels[1].append((unit, len(levels[0]) - 1))
                unit_index = len(levels[1]) - 1
            for f in range(plan.floors):
                f_num = plan.floor_start + f
                floor = node(Group.Kind.FLOOR, _render_pattern(plan.floor_pattern, f_num, "floor_pattern"),
                             f_num, unit_levels + 1, None, per_floor)
                floor_parent = (1, unit_index) if plan.units else (0, len(levels[0]) - 1)
                levels[2].append((floor, floor_parent))
                for _a in range(per_floor):
                    apartment = node(
                        Group.Kind.APARTMENT,
                        _render_pattern(plan.apartment_pattern, apartment_no, "apartment_pattern"),
                        apartment_no, unit_levels + 2, None, 0,
                    )
                    apartment.rght = apartment.lft + 1
                    levels[3].append((apartment, len(levels[2]) - 1))
                    apartment_no += 1
                    cursor += 1  # the apartment's rght
                cursor += 1  # the floor's rght
            if plan.units:
                cursor += 1  # the unit's rght
        cursor += 1  # the building's rght
    assert cursor == start + 2 * size, (cursor, start, size)

    def create(rows: list[Group]) -> None:
        bulk_create_with_history(rows, Group, batch_size=2000, default_user=audit_user(actor))

    buildings = [g for g, _p in levels[0]]
    for g in buildings:
        g.parent_id = parent.pk
    create(buildings)
    if plan.units:
        for g, p in levels[1]:
            g.parent_id = buildings[p].pk
        create([g for g, _p in levels[1]])
    floors = []
    for g, (lvl, p) in levels[2]:
        g.parent_id = (levels[1][p][0] if lvl == 1 else buildings[p]).pk
        floors.append(g)
    create(floors)
    for g, p in levels[3]:
        g.parent_id = floors[p].pk
    create([g for g, _p in levels[3]])
    return size
