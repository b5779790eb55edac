"""Every write to the tree and to memberships. The only module that changes mptt columns."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from mptt.exceptions import InvalidMove
from simple_history.utils import bulk_create_with_history

from .locks import lock_new_roots, lock_tree
from .models import ADMIN_ROLES, Group, Membership, Role, User
from .scoping import can_create_companies, can_manage, forget_scope

# Other apps (licenses) veto tree changes that would break what they hold. A check is
# called before the change with (event, group, new_parent) and returns a callable that is
# run after the change, inside the same transaction, and raises ValidationError to undo it.
TreeChangeCheck = Callable[[str, Group, Group | None], Callable[[], None] | None]
_tree_change_checks: list[TreeChangeCheck] = []
# Called after a company (root) is created, inside its transaction (licenses issues a Trial).
_company_created_hooks: list[Callable[[Group, User | None], None]] = []

MAX_GENERATED_GROUPS = 200_000


def register_tree_change_check(check: TreeChangeCheck) -> None:
    if check not in _tree_change_checks:
        _tree_change_checks.append(check)


def register_company_created_hook(hook: Callable[[Group, User | None], None]) -> None:
    if hook not in _company_created_hooks:
        _company_created_hooks.append(hook)


def _run_checks(event: str, group: Group, new_parent: Group | None) -> list[Callable[[], None]]:
    return [after for check in _tree_change_checks if (after := check(event, group, new_parent))]


def _require_manage(actor: User | None, group: Group) -> None:
    if actor is not None and not can_manage(actor, group):
        raise PermissionDenied(_("You cannot change this group."))


def _validate_fields(*, name: str, kind: str, parent: Group | None) -> None:
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors.setdefault("name", []).append(_("Enter a name."))
    if kind not in Group.Kind.values:
        errors.setdefault("kind", []).append(_("Choose a valid kind."))
    if parent is None and kind != Group.Kind.COMPANY:
        errors.setdefault("kind", []).append(_("A group without a parent must be a company."))
    if parent is not None and kind == Group.Kind.COMPANY:
        errors.setdefault("kind", []).append(_("A company cannot sit inside another group."))
    if parent is not None and not parent.can_hold_children:
        errors.setdefault("parent", []).append(
            _("%(parent)s is an apartment: it holds residents and devices, not groups.")
            % {"parent": parent}
        )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def group_create(
    *,
    parent: Group | None,
    name: str,
    kind: str,
    number: str = "",
    description: str = "",
    actor: User | None,
) -> Group:
    """Create one group as the last child of `parent` (or a company when parent is None)."""
    if parent is None:
        if actor is not None and not can_create_companies(actor):
            raise PermissionDenied(_("Only the server administrator creates companies."))
        lock_new_roots()
    else:
        lock_tree(parent.tree_id)
        parent.refresh_from_db()  # scope is checked on fresh nested-set columns, under the lock
        _require_manage(actor, parent)
    _validate_fields(name=name, kind=kind, parent=parent)
    group = Group(parent=parent, name=name.strip(), kind=kind, number=(number or "").strip(),
                  description=description or "")
    group._history_user = actor
    group.save()
    if parent is None:
        for hook in _company_created_hooks:
            hook(group, actor)
    return group


@transaction.atomic
def group_update(
    *, group: Group, name: str, kind: str, number: str = "", description: str = "", actor: User | None
) -> Group:
    """Change a group's general section (not its place in the tree)."""
    lock_tree(group.tree_id)
    group.refresh_from_db()
    _require_manage(actor, group)
    _validate_fields(name=name, kind=kind, parent=group.parent)
    if kind == Group.Kind.APARTMENT and not group.is_leaf_node():
        raise ValidationError({"kind": _("This group has child groups: it cannot become an apartment.")})
    group.name, group.kind = name.strip(), kind
    group.number, group.description = (number or "").strip(), description or ""
    group._history_user = actor
    group.save(update_fields=["name", "kind", "number", "description"])
    return group


@transaction.atomic
def group_move(*, group: Group, new_parent: Group, actor: User | None) -> Group:
    """Move `group` (with its subtree) to be the last child of `new_parent`, same company only."""
    if new_parent is None:
        raise ValidationError({"new_parent": _("Choose where to move the group.")})
    lock_tree(group.tree_id)
    group.refresh_from_db()
    new_parent.refresh_from_db()
    _require_manage(actor, group)
    _require_manage(actor, new_parent)
    if group.parent_id is None:
        raise ValidationError({"new_parent": _("A company cannot be moved.")})
    if new_parent.tree_id != group.tree_id:
        raise ValidationError(
            {"new_parent": _("Licenses never cross companies: a group moves only inside its own company.")}
        )
    if new_parent.pk == group.pk or (group.lft <= new_parent.lft and new_parent.rght <= group.rght):
        raise ValidationError({"new_parent": _("A group cannot move under itself or its own descendants.")})
    if not new_parent.can_hold_children:
        raise ValidationError(
            {"new_parent": _("%(parent)s is an apartment: it holds residents and devices, not groups.")
             % {"parent": new_parent}}
        )
    if group.parent_id == new_parent.pk:
        return group
    afters = _run_checks("move", group, new_parent)
    try:
        group.move_to(new_parent, "last-child")
    except InvalidMove as exc:
        raise ValidationError({"new_parent": str(exc)}) from exc
    group.refresh_from_db()
    group._history_user = actor
    group.save(update_fields=["parent"])  # one history row that records the new parent
    for after in afters:
        after()
    return group


@dataclass(frozen=True)
class DeletionSummary:
    groups: int
    counts: list[tuple[str, int]]  # (verbose name plural, how many) of everything that goes


def group_deletion_summary(group: Group) -> DeletionSummary:
    """What deleting `group` takes with it, counted per kind of object, for the confirmation page."""
    from django.contrib.admin.utils import NestedObjects
    from django.db import router

    collector = NestedObjects(using=router.db_for_write(Group))
    collector.collect([group])
    counts = []
    for model, objs in collector.model_objs.items():
        if model._meta.model_name.startswith("historical"):
            continue
        counts.append((str(model._meta.verbose_name_plural), len(objs)))
    counts.sort()
    return DeletionSummary(groups=group.get_descendant_count() + 1, counts=counts)


@transaction.atomic
def group_delete(*, group: Group, actor: User | None) -> None:
    """Delete a group, its subtree and all it holds. Companies only by the server administrator."""
    if group.parent_id is None and actor is not None and not can_create_companies(actor):
        raise PermissionDenied(_("Only the server administrator deletes companies."))
    lock_tree(group.tree_id)
    group.refresh_from_db()
    _require_manage(actor, group)
    if (
        actor is not None
        and not actor.is_superuser
        and Membership.objects.filter(user=actor, group=group, role__in=ADMIN_ROLES).exists()
    ):
        raise PermissionDenied(_("You cannot delete the group you administer."))
    afters = _run_checks("delete", group, None)
    group._history_user = actor
    group.delete()
    for after in afters:
        after()


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
def groups_generate(*, parent: Group, plan: GenerationPlan, actor: User | None) -> int:
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
        bulk_create_with_history(rows, Group, batch_size=2000, default_user=actor)

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


# --- people and roles -------------------------------------------------------------------

ROLE_KINDS = {
    Role.COMPANY_ADMIN: {Group.Kind.COMPANY},
    Role.RESIDENT: {Group.Kind.APARTMENT},
}


def _validate_role(group: Group, role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    allowed = ROLE_KINDS.get(role)
    if allowed and group.kind not in allowed:
        message = {
            Role.COMPANY_ADMIN: _("A company administrator is assigned to a company."),
            Role.RESIDENT: _("A resident lives in an apartment."),
        }[role]
        raise ValidationError({"role": message})
    if role in (Role.SITE_ADMIN, Role.CONCIERGE) and group.kind == Group.Kind.APARTMENT:
        raise ValidationError({"role": _("Administrators and concierges are assigned to groups above apartments.")})


@transaction.atomic
def membership_add(*, group: Group, user: User, role: str, actor: User | None) -> Membership:
    """Give `user` a role in `group`. The actor must administer the group."""
    _require_manage(actor, group)
    _validate_role(group, role)
    if Membership.objects.filter(user=user, group=group, role=role).exists():
        raise ValidationError({"email": _("%(user)s already holds this role here.") % {"user": user}})
    membership = Membership(user=user, group=group, role=role)
    membership._history_user = actor
    membership.save()
    forget_scope(user)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User | None) -> None:
    _require_manage(actor, membership.group)
    if actor is not None and membership.user_id == actor.pk and not actor.is_superuser:
        raise ValidationError(_("You cannot remove your own role."))
    membership._history_user = actor
    membership.delete()
    forget_scope(membership.user)


@transaction.atomic
def user_invite(
    *, email: str, name: str, language: str, group: Group, role: str, actor: User | None,
    domain: str = "127.0.0.1:8000", use_https: bool = False,
) -> Membership:
    """Give the role to the person with this email, creating their account if needed.

    A new person gets a mail with a link to choose their password.
    """
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": _("Enter an email address.")})
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(email=email, name=name or "", language=language or User.Language.EN)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    membership = membership_add(group=group, user=user, role=role, actor=actor)
    if created:
        _send_invitation(user, domain=domain, use_https=use_https)
    return membership


def _send_invitation(user: User, *, domain: str, use_https: bool) -> None:
    # Django's password reset machinery makes the one-time "choose your password" link.
    form = PasswordResetForm(data={"email": user.email})
    form.is_valid()
    context = {"user": user, "domain": domain, "protocol": "https" if use_https else "http"}
    form.send_mail(
        "registration/invitation_subject.txt",
        "registration/invitation_email.txt",
        {**context, **_reset_context(user)},
        None,
        user.email,
    )


def _reset_context(user: User) -> dict:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return {"uid": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}
