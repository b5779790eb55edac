import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.forms import put_errors

from . import selectors, services
from .forms import GenerateForm, GroupForm, InviteForm, MoveForm
from .models import Membership
from .scoping import (
    can_create_companies,
    can_edit_licenses,
    can_manage,
    get_visible_group_or_404,
    groups_manageable_by,
    scope_top_groups,
)


def _manageable_or_404(request: HttpRequest, pk) -> object:
    group = get_visible_group_or_404(request.user, pk)
    if not can_manage(request.user, group):
        raise PermissionDenied(_("You can see this group but not change it."))
    return group


@login_required
def tree(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    context = {"query": query, "can_create_company": can_create_companies(request.user)}
    if query:
        context["results"] = selectors.search_groups(user=request.user, query=query, page=request.GET.get("page"))
    else:
        context["tops"] = scope_top_groups(request.user)
    return render(request, "groups/tree.html", context)


@login_required
def children(request: HttpRequest, pk: int) -> HttpResponse:
    """The next level of the tree, loaded by htmx when a node is opened."""
    group = get_visible_group_or_404(request.user, pk)
    page = selectors.children_page(user=request.user, group=group, page=request.GET.get("page"))
    return render(request, "groups/_children.html", {"group": group, "page": page})


@login_required
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_visible_group_or_404(request.user, pk)
    page = selectors.children_page(user=request.user, group=group, page=request.GET.get("page"))
    context = {
        "group": group,
        "crumbs": selectors.breadcrumbs(user=request.user, group=group),
        "page": page,
        "members": selectors.group_members(group=group),
        "can_manage": can_manage(request.user, group),
        "can_edit_licenses": can_edit_licenses(request.user, group),
        "can_delete": services.deletion_refused(group=group, actor=request.user) is None,
    }
    return render(request, "groups/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request: HttpRequest) -> HttpResponse:
    parent_id = request.GET.get("parent") or request.POST.get("parent")
    parent = None
    if parent_id:
        parent = _manageable_or_404(request, parent_id)
    elif not can_create_companies(request.user):
        raise PermissionDenied(_("Only the server administrator creates companies."))
    if parent is not None and not parent.can_hold_children:
        # Nothing to fill in: say why on the apartment's page (an unbound form cannot carry errors).
        messages.error(request, _("%(parent)s is an apartment: it holds residents and devices, not groups.") % {"parent": parent})
        return redirect("groups:detail", pk=parent.pk)
    form = GroupForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(parent=parent, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            put_errors(exc, form)
        else:
            messages.success(request, _("Group “%(name)s” created.") % {"name": group.name})
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/form.html", {"form": form, "parent": parent, "title": _("New group")})


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    group = _manageable_or_404(request, pk)
    initial = {"name": group.name, "kind": group.kind, "number": group.number, "description": group.description}
    form = GroupForm(request.POST or None, initial=initial, parent=group.parent)
    if request.method == "POST" and form.is_valid():
        try:
            services.group_update(group=group, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            put_errors(exc, form)
        else:
            messages.success(request, _("Group saved."))
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/form.html", {
        "form": form, "group": group, "title": _("Edit group"),
        "crumbs": selectors.breadcrumbs(user=request.user, group=group)})


@login_required
@require_http_methods(["GET", "POST"])
def group_move(request: HttpRequest, pk: int) -> HttpResponse:
    group = _manageable_or_404(request, pk)
    query = request.GET.get("q", "")
    candidates = selectors.move_candidates(user=request.user, group=group, query=query)
    needs_confirmation = None
    if request.method == "POST":
        # Validate against every allowed target, not just the page of search results shown.
        form = MoveForm(request.POST, candidates=selectors.move_candidates(user=request.user, group=group))
        if form.is_valid():
            try:
                services.group_move(group=group, new_parent=form.cleaned_data["new_parent"], actor=request.user,
                                    confirm_suspend=bool(request.POST.get("confirm_suspend")))
            except ValidationError as exc:
                if exc.code == "confirm_suspend":  # only residents would be short: the person may confirm
                    needs_confirmation = exc
                    candidates = candidates.filter(pk=form.cleaned_data["new_parent"].pk)
                else:
                    put_errors(exc, form)
            else:
                messages.success(request, _("Group moved."))
                return redirect("groups:detail", pk=group.pk)
    else:
        form = MoveForm(candidates=candidates)
    shown = candidates[:50]
    template = "groups/_move_candidates.html" if request.htmx else "groups/move.html"
    return render(request, template, {"form": form, "group": group, "candidates": shown, "query": query,
                                      "needs_confirmation": needs_confirmation,
                                      "chosen": form.cleaned_data.get("new_parent") if needs_confirmation else None})


@login_required
@require_http_methods(["GET", "POST"])
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = _manageable_or_404(request, pk)
    parent_id = group.parent_id
    if request.method == "POST":
        try:
            services.group_delete(group=group, actor=request.user)
        except PermissionDenied as exc:
            # e.g. the group the person administers: say why instead of a bare 403 page.
            messages.error(request, str(exc))
            return redirect("groups:detail", pk=group.pk)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Group “%(name)s” deleted.") % {"name": group.name})
            return redirect("groups:detail", pk=parent_id) if parent_id else redirect("groups:tree")
    if reason := services.deletion_refused(group=group, actor=request.user):
        # Said before the confirmation page, not after it.
        messages.error(request, reason)
        return redirect("groups:detail", pk=group.pk)
    summary = services.group_deletion_summary(group)
    return render(request, "groups/delete.html", {"group": group, "summary": summary})


@login_required
@require_http_methods(["GET", "POST"])
def group_generate(request: HttpRequest, pk: int) -> HttpResponse:
    group = _manageable_or_404(request, pk)
    form = GenerateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            count = services.groups_generate(parent=group, plan=form.plan(), actor=request.user)
        except ValidationError as exc:
            put_errors(exc, form)
        else:
            messages.success(request, _("%(count)s groups generated.") % {"count": count})
            return redirect("groups:detail", pk=group.pk)
    return render(request, "groups/generate.html", {"form": form, "group": group})


@login_required
@require_http_methods(["GET", "POST"])
def group_members(request: HttpRequest, pk: int) -> HttpResponse:
    group = _manageable_or_404(request, pk)
    form = InviteForm(request.POST or None, group=group)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_invite(group=group, actor=request.user, domain=request.get_host(),
                                 use_https=request.is_secure(), **form.cleaned_data)
        except ValidationError as exc:
            put_errors(exc, form)
        else:
            messages.success(request, _("%(email)s added.") % {"email": form.cleaned_data["email"]})
            return redirect("groups:members", pk=group.pk)
    return render(request, "groups/members.html",
                  {"form": form, "group": group, "members": selectors.group_members(group=group),
                   "crumbs": selectors.breadcrumbs(user=request.user, group=group)})


@login_required
@require_POST
def membership_delete(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_object_or_404(Membership.objects.select_related("group", "user"),
                                   pk=pk, group__in=groups_manageable_by(request.user))
    try:
        services.membership_remove(membership=membership, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Role removed."))
    return redirect("groups:members", pk=membership.group_id)


@login_required
def autocomplete(request: HttpRequest) -> JsonResponse:
    """Groups in scope matching ?q=, for pickers: [{id, text}] (scoped like everything else)."""
    query = request.GET.get("q") or request.GET.get("subtree", "")
    page = selectors.search_groups(user=request.user, query=re.sub(r"\s*#\d+\s*$", "", query))
    found = page.object_list[:20]
    if request.GET.get("format") == "options":  # for a <datalist> filled by htmx
        return render(request, "groups/_options.html", {"groups": found})
    return JsonResponse({"results": [{"id": g.pk, "text": str(g)} for g in found]})
