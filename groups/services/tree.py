"""Every write to the tree: create, update, move, delete, under the company's lock.

The only place (with generate.py) that changes mptt columns."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from mptt.exceptions import InvalidMove

from ..locks import lock_new_roots, lock_tree
from ..models import ADMIN_ROLES, Group, Membership
from ..scoping import (
    Actor,
    audit_user,
    can_create_companies,
    can_manage,
    groups_manageable_by,
    is_system,
)

# Other apps (licenses) veto tree changes that would break what they hold. A check is
# called before the change with (event, group, new_parent, actor=, confirm=) and returns a
# callable that is run after the change, inside the same transaction, and raises
# ValidationError to undo it; one with code "confirm_suspend" asks the person to confirm
# (the change then runs again with confirm=True).
TreeChangeCheck = Callable[..., Callable[[], None] | None]
_tree_change_checks: list[TreeChangeCheck] = []
# Called after a company (root) is created, inside its transaction (licenses issues a Trial).
_company_created_hooks: list[Callable[[Group, Actor], None]] = []



def register_tree_change_check(check: TreeChangeCheck) -> None:
    if check not in _tree_change_checks:
        _tree_change_checks.append(check)


def register_company_created_hook(hook: Callable[[Group, Actor], None]) -> None:
    if hook not in _company_created_hooks:
        _company_created_hooks.append(hook)


def _run_checks(event: str, group: Group, new_parent: Group | None, *, actor: Actor,
                confirm: bool = False) -> list[Callable[[], None]]:
    return [after for check in _tree_change_checks
            if (after := check(event, group, new_parent, actor=actor, confirm=confirm))]


def _require_manage(actor: Actor, group: Group) -> None:
    if not can_manage(actor, group):
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
    actor: Actor,
) -> Group:
    """Create one group as the last child of `parent` (or a company when parent is None)."""
    if parent is None:
        if not can_create_companies(actor):
            raise PermissionDenied(_("Only the server administrator creates companies."))
        lock_new_roots()
    else:
        lock_tree(parent.tree_id)
        parent.refresh_from_db()  # scope is checked on fresh nested-set columns, under the lock
        _require_manage(actor, parent)
    _validate_fields(name=name, kind=kind, parent=parent)
    group = Group(parent=parent, name=name.strip(), kind=kind, number=(number or "").strip(),
                  description=description or "")
    group._history_user = audit_user(actor)
    group.save()
    if parent is None:
        for hook in _company_created_hooks:
            hook(group, actor)
    return group


@transaction.atomic
def group_update(
    *, group: Group, name: str, kind: str, number: str = "", description: str = "", actor: Actor
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
    group._history_user = audit_user(actor)
    group.save(update_fields=["name", "kind", "number", "description"])
    return group


@transaction.atomic
def group_move(*, group: Group, new_parent: Group, actor: Actor, confirm_suspend: bool = False) -> Group:
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
    afters = _run_checks("move", group, new_parent, actor=actor, confirm=confirm_suspend)
    try:
        group.move_to(new_parent, "last-child")
    except InvalidMove as exc:
        raise ValidationError({"new_parent": str(exc)}) from exc
    group.refresh_from_db()
    group._history_user = audit_user(actor)
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


def deletion_refused(*, group: Group, actor: Actor) -> str | None:
    """Why `actor` may not delete `group` (None: they may). Pages offer Delete only where this is None."""
    return deletions_refused(groups=[group], actor=actor)[group.pk]


def deletions_refused(*, groups: list[Group], actor: Actor) -> dict[int, str | None]:
    """deletion_refused for many groups in two queries (a page of the tree)."""
    ids = [g.pk for g in groups]
    system = is_system(actor)
    manageable = set() if system else set(groups_manageable_by(actor).filter(pk__in=ids).values_list("pk", flat=True))
    administered = set() if system or actor.is_superuser else set(
        Membership.objects.filter(user=actor, group_id__in=ids, role__in=ADMIN_ROLES).values_list("group_id", flat=True))
    out: dict[int, str | None] = {}
    for group in groups:
        if group.parent_id is None and not can_create_companies(actor):
            out[group.pk] = _("Only the server administrator deletes companies.")
        elif not system and group.pk not in manageable:
            out[group.pk] = _("You cannot change this group.")
        elif group.pk in administered:
            out[group.pk] = _("You cannot delete the group you administer.")
        else:
            out[group.pk] = None
    return out


@transaction.atomic
def group_delete(*, group: Group, actor: Actor) -> None:
    """Delete a group, its subtree and all it holds. Companies only by the server administrator."""
    lock_tree(group.tree_id)
    group.refresh_from_db()
    if reason := deletion_refused(group=group, actor=actor):
        raise PermissionDenied(reason)
    afters = _run_checks("delete", group, None, actor=actor)
    group._history_user = audit_user(actor)
    group.delete()
    for after in afters:
        after()
