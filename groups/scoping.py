"""The one place that decides what a person sees and may change.

A role held in a group reaches that group's subtree. Every view, admin page, form choice,
autocomplete, export and command asks these functions; none filters groups on its own.
Scope is read fresh every time (tree writes shift lft/rght, so a cached copy goes stale).
"""

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from .models import ADMIN_ROLES, STAFF_ROLES, Group, Membership, Role, User

_NOTHING = Q(pk__in=[])


class SystemActor:
    """Who acts when no person does: the sweeps, migrations and ops commands.

    Services never take a missing actor as leave to skip their checks: a person acts as
    themselves, and the few callers that act for the system pass SYSTEM explicitly.
    """

    is_authenticated = False
    is_active = True
    is_superuser = False
    is_staff = False
    pk = None

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()
Actor = User | SystemActor


def is_system(actor: Actor) -> bool:
    if actor is None:
        raise TypeError("services need an actor: the person acting, or SYSTEM")
    return isinstance(actor, SystemActor)


def audit_user(actor: Actor) -> User | None:
    """The user a history row records: the person, or none for the system."""
    return None if is_system(actor) else actor


# Roles by reach: nobody hands out a role above the highest one they hold over a group.
ROLE_RANK = {Role.RESIDENT: 0, Role.CONCIERGE: 1, Role.SITE_ADMIN: 2, Role.COMPANY_ADMIN: 3}


def _scope_roots(user: User, roles: Iterable[str]) -> list[tuple[int, int, int, int]]:
    """(group id, tree_id, lft, rght) of the groups where `user` holds one of `roles`."""
    return list(
        Membership.objects.filter(user=user, role__in=list(roles)).values_list(
            "group_id", "group__tree_id", "group__lft", "group__rght"
        )
    )


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def _is_server_admin(user: Actor) -> bool:
    """The server administrator, and the system, may do anything a service allows."""
    return is_system(user) or (_active(user) and user.is_superuser)


def scope_q(user: User, *, prefix: str = "", manage: bool = False, strict: bool = False) -> Q:
    """A Q over groups (or over a relation to groups, with `prefix`) for `user`'s scope.

    manage: only where they administer; strict: only strictly below those groups.
    """
    if _is_server_admin(user):
        return Q()
    if not _active(user):
        return _NOTHING
    holds = Membership.objects.filter(
        user=user,
        role__in=list(ADMIN_ROLES if manage else STAFF_ROLES),
        group__tree_id=OuterRef(f"{prefix}tree_id"),
        group__rght__gte=OuterRef(f"{prefix}rght"),
        **{("group__lft__lt" if strict else "group__lft__lte"): OuterRef(f"{prefix}lft")},
    )
    return Q(Exists(holds))


def scope_ranges_q(user: User, *, prefix: str = "") -> Q:
    """The same scope as scope_q, as ranges of the tree (one per group the person's tree opens at):
    for reading many rows (a report, the dashboard), where a correlated EXISTS per row would scan
    the groups to each row's left."""
    if _is_server_admin(user):
        return Q()
    q = _NOTHING
    for top in scope_top_groups(user):
        q |= Q(**{f"{prefix}tree_id": top.tree_id, f"{prefix}lft__gte": top.lft, f"{prefix}rght__lte": top.rght})
    return q


def groups_visible_to(user: User) -> QuerySet[Group]:
    """Groups `user` may see: the subtrees where they are administrator or concierge."""
    return Group.objects.filter(scope_q(user))


def groups_manageable_by(user: User) -> QuerySet[Group]:
    """Groups whose tree and members `user` may change: subtrees where they administer."""
    return Group.objects.filter(scope_q(user, manage=True))


def groups_licensable_by(user: User) -> QuerySet[Group]:
    """Groups whose Licenses section `user` may edit: strictly below where they administer.

    Nobody raises their own ceiling; root pools belong to the server administrator alone.
    """
    return Group.objects.filter(scope_q(user, manage=True, strict=True))


def _holds(user: User, group: Group, roles, *, strict: bool) -> bool:
    lft = {"group__lft__lt" if strict else "group__lft__lte": group.lft}
    return Membership.objects.filter(
        user=user, role__in=list(roles), group__tree_id=group.tree_id, group__rght__gte=group.rght, **lft
    ).exists()


def can_view(user: User, group: Group) -> bool:
    return _is_server_admin(user) or (_active(user) and _holds(user, group, STAFF_ROLES, strict=False))


def can_manage(user: User, group: Group) -> bool:
    return _is_server_admin(user) or (_active(user) and _holds(user, group, ADMIN_ROLES, strict=False))


def can_edit_licenses(user: User, group: Group) -> bool:
    return _is_server_admin(user) or (_active(user) and _holds(user, group, ADMIN_ROLES, strict=True))


def can_create_companies(user: User) -> bool:
    return _is_server_admin(user)


def scope_top_groups(user: User) -> QuerySet[Group]:
    """The groups a person's tree opens at: the highest groups of their scope."""
    if _is_server_admin(user):
        return Group.objects.filter(parent__isnull=True).order_by("name", "tree_id")
    if not _active(user):
        return Group.objects.none()
    roots = _scope_roots(user, STAFF_ROLES)
    # A membership inside another membership's subtree adds nothing to open at.
    tops = [
        gid
        for gid, tree_id, lft, rght in roots
        if not any(t == tree_id and left < lft and r >= rght for _, t, left, r in roots)
    ]
    return Group.objects.filter(pk__in=tops).order_by("tree_id", "lft")


def get_visible_group_or_404(user: User, pk) -> Group:
    """The group with this id if `user` may see it; otherwise 404, as if it did not exist."""
    try:
        return groups_visible_to(user).get(pk=pk)
    except (Group.DoesNotExist, ValueError, TypeError):
        raise Http404("No such group") from None


def users_visible_to(user: User) -> QuerySet[User]:
    """People `user` may see: those holding a role in their scope, and themselves."""
    if _is_server_admin(user):
        return User.objects.all()
    if not _active(user):
        return User.objects.none()
    in_scope = Membership.objects.filter(scope_q(user, prefix="group__"), user=OuterRef("pk"))
    return User.objects.filter(Q(Exists(in_scope)) | Q(pk=user.pk))


def highest_role_over(user: Actor, group: Group) -> int:
    """The rank of the highest administrator role `user` holds over `group` (-1: none)."""
    if _is_server_admin(user):
        return max(ROLE_RANK.values())
    roles = Membership.objects.filter(
        user=user, role__in=list(ADMIN_ROLES), group__tree_id=group.tree_id,
        group__lft__lte=group.lft, group__rght__gte=group.rght).values_list("role", flat=True)
    return max((ROLE_RANK[r] for r in roles), default=-1)
