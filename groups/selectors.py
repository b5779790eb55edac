"""Reads of the tree, shaped for the pages. Every one takes the person and stays in scope."""

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from .chain import chain_ids
from .models import Group, Membership, User
from .scoping import groups_manageable_by, groups_visible_to, scope_q

PAGE_SIZE = 50


def children_page(*, user: User, group: Group, page: int | str | None = 1) -> Page:
    """One page of a group's children in tree order (the lazy tree loads one level at a time)."""
    children = groups_visible_to(user).filter(parent=group).order_by("lft")
    return Paginator(children, PAGE_SIZE).get_page(page)


def search_groups(*, user: User, query: str, page: int | str | None = 1) -> Page:
    """Groups in scope whose name or number matches `query`."""
    query = (query or "").strip()[:100]
    qs = groups_visible_to(user).filter(Q(name__icontains=query) | Q(number__iexact=query))
    found = Paginator(qs.select_related("parent").order_by("tree_id", "lft"), PAGE_SIZE).get_page(page)
    found.object_list = list(found.object_list)
    # A result names its parent only when the person may see it: nothing above one's scope shows.
    parent_ids = {g.parent_id for g in found.object_list if g.parent_id}
    shown = set(groups_visible_to(user).filter(pk__in=parent_ids).values_list("pk", flat=True)) if parent_ids else set()
    for group in found.object_list:
        group.shown_parent = group.parent if group.parent_id in shown else None
    return found


def breadcrumbs(*, user: User, group: Group) -> list[Group]:
    """The group's ancestors that `user` may see, top first, and the group itself."""
    ancestors = list(Group.objects.filter(scope_q(user), pk__in=chain_ids(group.pk, include_self=False))
                     .order_by("level")) if group.parent_id else []
    return [*ancestors, group]


def move_candidates(*, user: User, group: Group, query: str = "") -> QuerySet[Group]:
    """Where `user` may move `group`: managed groups of the same company that can hold it."""
    qs = (
        groups_manageable_by(user)
        .filter(tree_id=group.tree_id)
        .exclude(kind=Group.Kind.APARTMENT)
        .exclude(lft__gte=group.lft, rght__lte=group.rght)
        .exclude(pk=group.parent_id)
        .order_by("lft")
    )
    query = (query or "").strip()[:100]
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(number__iexact=query))
    return qs


def group_members(*, group: Group) -> QuerySet[Membership]:
    return group.memberships.select_related("user").order_by("role", "user__email")
