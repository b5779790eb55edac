from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.forms import error_summary, put_errors, show_read_only
from groups.scoping import (
    can_edit_licenses,
    can_manage,
    get_visible_group_or_404,
    groups_manageable_by,
)
from groups.selectors import breadcrumbs

from . import selectors, services
from .forms import BlockFormSet, DeviceForm, GrantForm, HistoryFilterForm, SettingsForm
from .history import group_history
from .models import Device


@login_required
@require_http_methods(["GET", "POST"])
def group_licenses(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit group → Licenses: settings, blocks and the read-only status below."""
    group = get_visible_group_or_404(request.user, pk)
    editable = can_edit_licenses(request.user, group)
    on = services.today()
    status = selectors.pool_status(group=group, on=on)
    counted, switches = selectors.features()
    features = counted + switches
    form_kwargs = {"features": features, "kinds": services.allowed_block_kinds(request.user, group)}
    initial = BlockFormSet.initial_for([row.block for row in status.blocks], features)
    settings_initial = {name: getattr(status.settings, name) for name in SettingsForm.base_fields}
    what_if, changed_since = None, False
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("You cannot edit the licenses of this group."))
        settings_form = SettingsForm(request.POST, initial=settings_initial)
        formset = BlockFormSet(request.POST, initial=initial, prefix="blocks", form_kwargs=form_kwargs)
        if settings_form.is_valid() and formset.is_valid():
            blocks, delete_ids = formset.to_inputs()
            # A change that takes something away is shown first (the what-if) and saved only when
            # confirmed; the Confirm button sends the fingerprint of the what-if it confirms.
            confirmed = request.POST.get("what_if") or None
            try:
                result = services.licenses_save(
                    group=group, settings=settings_form.to_input(), blocks=blocks, delete_ids=delete_ids,
                    ask_first=confirmed is None, confirmed=confirmed, actor=request.user)
            except ValidationError as exc:
                put_errors(exc, settings_form, by_key={f.prefix: f for f in formset.forms})
            else:
                if result.held:
                    what_if, changed_since = result.what_if, confirmed is not None
                else:
                    messages.success(request, _saved_message(result))
                    return redirect("licenses:group_licenses", pk=group.pk)
        elif settings_form.is_valid():
            # All of the form's errors in one round: the cards without errors of their own are
            # checked against the pools too (a preview: nothing is saved).
            blocks, delete_ids = formset.to_inputs(valid_only=True)
            try:
                services.licenses_save(group=group, settings=settings_form.to_input(), blocks=blocks,
                                       delete_ids=delete_ids, confirm_suspend=True, actor=request.user, preview=True)
            except ValidationError as exc:
                put_errors(exc, settings_form, by_key={f.prefix: f for f in formset.forms})
    else:
        settings_form = SettingsForm(initial=settings_initial)
        formset = BlockFormSet(initial=initial, prefix="blocks", form_kwargs=form_kwargs)
    if not editable:
        show_read_only([settings_form, *formset.forms])
    summary = error_summary((settings_form, _("Pool"), "settings-h"), *[
        (form, _("License block %(n)s") % {"n": n}, f"card-{form.prefix}") for n, form in enumerate(formset.forms, 1)])
    summary += [(_("License blocks"), str(e), "blocks-h") for e in formset.non_form_errors()]
    rows_by_id = {row.block.pk: row for row in status.blocks}
    cards = [(form, rows_by_id.get(form.initial.get("id"))) for form in formset.forms]
    return render(request, "licenses/group_licenses.html", {
        "group": group, "status": status, "settings_form": settings_form, "formset": formset, "cards": cards,
        "editable": editable, "crumbs": breadcrumbs(user=request.user, group=group), "today": on,
        "what_if": what_if, "changed_since": changed_since, "counted": counted, "switches": switches, "summary": summary,
    })


def _saved_message(result: services.SaveResult) -> str:
    message = _("Licenses saved.")
    if result.suspended:
        message += " " + _("Suspended grants: %(n)s.") % {"n": len(result.suspended)}
    later = [g for g, day, _pool in result.to_suspend if g not in result.suspended]
    if later:
        message += " " + _("Grants the daily check will suspend on later days: %(n)s.") % {"n": len(later)}
    if result.restored:
        message += " " + _("Restored grants: %(n)s.") % {"n": len(result.restored)}
    return message


@login_required
@require_http_methods(["GET", "POST"])
def devices(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_visible_group_or_404(request.user, pk)
    manageable = can_manage(request.user, group)
    form = DeviceForm(request.POST or None)
    if request.method == "POST":
        if not manageable:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.device_register(group=group, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                put_errors(exc, form)
            else:
                messages.success(request, _("Device registered: its Basic license now counts in the pool."))
                return redirect("licenses:devices", pk=group.pk)
    device_list = Device.objects.filter(group=group).select_related("block")
    return render(request, "licenses/devices.html", {"group": group, "devices": device_list, "form": form,
                                                     "can_manage": manageable,
                                                     "crumbs": breadcrumbs(user=request.user, group=group)})


@login_required
@require_POST
def device_delete(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(Device.objects.select_related("group"), pk=pk,
                               group__in=groups_manageable_by(request.user))
    try:
        services.device_unregister(device=device, actor=request.user,
                                   confirm_suspend=bool(request.POST.get("confirm_suspend")))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Device removed."))
    return redirect("licenses:devices", pk=device.group_id)


@login_required
@require_http_methods(["GET", "POST"])
def resident(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """A resident's grant in an apartment: counted quantities and switches."""
    group = get_visible_group_or_404(request.user, pk)
    rows = {r.user.pk: r for r in selectors.apartment_residents(group=group)}
    row = rows.get(user_pk)
    if row is None:
        raise Http404
    counted, switches = selectors.features()
    initial = {f"f_{code}": q for code, q in row.quantities.items()}
    initial.update({f"f_{code}": True for code in row.switches})
    form = GrantForm(request.POST or None, initial=initial, features=counted + switches)
    manageable = can_manage(request.user, group)
    if request.method == "POST":
        if not manageable:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.grant_set(group=group, user=row.user, quantities=form.quantities(), actor=request.user)
            except ValidationError as exc:
                put_errors(exc, form)
            else:
                messages.success(request, _("Grant saved."))
                return redirect("licenses:resident", pk=group.pk, user_pk=user_pk)
    if not manageable:
        show_read_only([form])
    status = selectors.pool_status(group=group, on=services.today())
    return render(request, "licenses/resident.html", {
        "group": group, "row": row, "form": form, "can_manage": manageable, "status": status,
        "crumbs": breadcrumbs(user=request.user, group=group), "residents": rows.values()})


@login_required
@require_http_methods(["GET", "POST"])
def apartment_residents(request: HttpRequest, pk: int) -> HttpResponse:
    """Every resident of an apartment with their grant, edited together and saved at once."""
    group = get_visible_group_or_404(request.user, pk)
    rows = selectors.apartment_residents(group=group)
    counted, switches = selectors.features()
    manageable = can_manage(request.user, group)
    forms = []
    for row in rows:
        initial = {f"f_{code}": q for code, q in row.quantities.items()}
        initial.update({f"f_{code}": True for code in row.switches})
        form = GrantForm(request.POST or None, initial=initial, features=counted + switches, prefix=f"u{row.user.pk}")
        forms.append((row, form))
    if not manageable:
        show_read_only(form for _row, form in forms)
    if request.method == "POST":
        if not manageable:
            raise PermissionDenied
        if all(form.is_valid() for _row, form in forms):
            changed = {row.user: form.quantities() for row, form in forms if form.has_changed()}
            try:
                services.grants_set_bulk(group=group, quantities_by_user=changed, actor=request.user)
            except ValidationError as exc:
                put_errors(exc, forms[0][1], by_key={form.prefix: form for _row, form in forms})
            else:
                messages.success(request, _("Grants saved: %(n)s.") % {"n": len(changed)})
                return redirect("licenses:apartment_residents", pk=group.pk)
    status = selectors.pool_status(group=group, on=services.today())
    return render(request, "licenses/apartment_residents.html", {
        "group": group, "forms": forms, "can_manage": manageable, "status": status, "counted": counted,
        "switches": switches, "crumbs": breadcrumbs(user=request.user, group=group)})


@login_required
def my_licenses(request: HttpRequest) -> HttpResponse:
    grants = selectors.user_grants(request.user)
    return render(request, "licenses/my_licenses.html", {"grants": grants})


@login_required
def history(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_visible_group_or_404(request.user, pk)
    form = HistoryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = group_history(group=group, limit=200, subject=filters.get("subject") or "",
                            who=filters.get("who") or "", since=filters.get("since"), until=filters.get("until"))
    return render(request, "licenses/history.html", {"group": group, "entries": entries, "form": form,
                                                     "crumbs": breadcrumbs(user=request.user, group=group)})

