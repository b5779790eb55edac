"""License blocks, devices and grants in the admin: scoped, and saved only through the services."""

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin

from config.admin import (
    NotFoundOutsideScope,
    ReadOnly,
    ScopedChoices,
    ScopedInlineFormSet,
    SuperuserWrites,
)
from config.dryrun import dry_run
from config.forms import put_errors
from groups.admin import GroupAdmin
from groups.models import Group
from groups.scoping import can_edit_licenses, can_manage, groups_manageable_by, groups_visible_to

from . import services
from .forms import add_feature_fields, feature_quantities
from .models import BlockKind, Device, Feature, Grant, LicenseBlock, PoolSettings


class BlockInlineForm(forms.ModelForm):
    request = parent_group = None  # set per request by BlockInline.get_formset

    class Meta:
        model = LicenseBlock
        fields = ["kind", "valid_from", "valid_until", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kinds = services.allowed_block_kinds(self.request.user, self.parent_group) if self.request and self.parent_group else []
        offered = [*kinds, *([self.instance.kind] if self.instance.pk and self.instance.kind not in kinds else [])]
        self.fields["kind"].choices = [(k, BlockKind(k).label) for k in offered]
        self.features = list(Feature.objects.all())
        add_feature_fields(self, self.features)
        if self.instance.pk:
            for bf in self.instance.quantities.all():
                feature = next((f for f in self.features if f.pk == bf.feature_id), None)
                if feature is not None:
                    self.fields[f"f_{feature.code}"].initial = bf.quantity if feature.is_counted else bool(bf.quantity)

    def to_input(self) -> services.BlockInput:
        data = self.cleaned_data
        quantities = feature_quantities(self)
        return services.BlockInput(key=self.prefix, id=self.instance.pk, kind=data["kind"], valid_from=data["valid_from"],
                                   valid_until=data.get("valid_until"), quantities=quantities, note=data.get("note") or "")


class BlockInlineFormSet(ScopedInlineFormSet):
    """Validates the whole Licenses section with the service (a dry run), so the admin
    refuses exactly what the web form refuses; save_formset then runs it for real."""

    def collect(self):
        blocks, delete_ids = [], []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if self.can_delete and self._should_delete_form(form):
                if form.instance.pk:
                    delete_ids.append(form.instance.pk)
            elif form.has_changed():
                blocks.append(form.to_input())
        return blocks, delete_ids

    def clean(self):
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        blocks, delete_ids = self.collect()
        if not blocks and not delete_ids:
            return
        try:
            dry_run(services.licenses_save, group=self.instance, settings=services.settings_input(self.instance),
                    blocks=blocks, delete_ids=delete_ids, actor=self.request.user)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        except PermissionDenied as exc:
            raise forms.ValidationError(str(exc)) from exc


class BlockInline(ScopedChoices, admin.StackedInline):
    model = LicenseBlock
    form = BlockInlineForm
    formset = BlockInlineFormSet
    extra = 0
    fk_name = "group"
    readonly_fields = ["last_notified_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).own().prefetch_related("quantities")

    def get_formset(self, request, obj=None, **kwargs):
        form = BlockInlineForm
        kwargs["fields"] = None
        formset = super().get_formset(request, obj, form=form, **kwargs)
        formset.request = request
        formset.form = type("ScopedBlockInlineForm", (formset.form,), {"request": request, "parent_group": obj})
        return formset

    def get_fields(self, request, obj=None):
        return ["kind", "valid_from", "valid_until", "note", "last_notified_at"] + [
            f"f_{f.code}" for f in Feature.objects.all()]

    def _editable(self, request, obj):
        return obj is not None and can_edit_licenses(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.is_staff


class GroupWithLicensesAdmin(GroupAdmin):
    inlines = [*GroupAdmin.inlines, BlockInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not LicenseBlock:
            return super().save_formset(request, form, formset, change)
        blocks, delete_ids = formset.collect()
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        if blocks or delete_ids:
            services.licenses_save(group=form.instance, settings=services.settings_input(form.instance),
                                   blocks=blocks, delete_ids=delete_ids, actor=request.user)


admin.site.unregister(Group)
admin.site.register(Group, GroupWithLicensesAdmin)


class ScopedAdmin(NotFoundOutsideScope, ReadOnly, SimpleHistoryAdmin):
    group_path = "group"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{f"{self.group_path}__in": groups_visible_to(request.user)})


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Days"), min_value=1, max_value=3650, initial=30)


@admin.register(LicenseBlock)
class LicenseBlockAdmin(ScopedAdmin):
    list_display = ["id", "group", "kind", "valid_from", "valid_until", "last_notified_at"]
    list_filter = ["kind", "valid_until"]
    search_fields = ["group__name", "note"]
    list_select_related = ["group"]
    actions = ["extend_30_days", "export_csv"]

    @admin.action(description=gettext_lazy("Extend validity by 30 days"))
    def extend_30_days(self, request, queryset):
        done = 0
        for block in queryset.select_related("group"):
            try:
                services.block_extend(block=block, days=30, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"{block}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
        if done:
            messages.success(request, ngettext("%(n)s block(s) extended.", "%(n)s block(s) extended.", done) % {"n": done})

    @admin.action(description=gettext_lazy("Export selected as CSV"))
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="license-blocks.csv"'
        writer = csv.writer(response)
        writer.writerow(["id", "group", "kind", "valid_from", "valid_until", "last_notified_at"])
        for b in queryset.select_related("group"):
            writer.writerow([b.pk, b.group.name, b.kind, b.valid_from, b.valid_until or "", b.last_notified_at or ""])
        return response


class DeviceAddForm(forms.ModelForm):
    class Meta:
        model = Device
        fields = ["group", "serial_number", "model"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                dry_run(services.device_register, group=data["group"], serial_number=data["serial_number"],
                        model=data["model"], actor=self.request.user)
            except (ValidationError, PermissionDenied) as exc:
                put_errors(exc, self, denied_field="group")
        return data


@admin.register(Device)
class DeviceAdmin(ScopedAdmin):
    form = DeviceAddForm
    list_display = ["serial_number", "model", "group", "created_at"]
    search_fields = ["serial_number", "model", "group__name"]
    list_select_related = ["group"]
    autocomplete_fields = ["group"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.request = request
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["queryset"] = groups_manageable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return request.user.is_staff and groups_manageable_by(request.user).exists()

    def has_delete_permission(self, request, obj=None):
        return request.user.is_staff and (obj is None or can_manage(request.user, obj.group))

    def save_model(self, request, obj, form, change):
        device = services.device_register(group=obj.group, serial_number=obj.serial_number, model=obj.model,
                                          actor=request.user)
        obj.pk = device.pk

    def delete_model(self, request, obj):
        try:
            services.device_unregister(device=obj, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Grant)
class GrantAdmin(ScopedAdmin):
    list_display = ["user", "group", "granted_at", "suspended_at"]
    list_filter = ["suspended_at"]
    search_fields = ["user__email", "group__name"]
    list_select_related = ["user", "group"]


@admin.register(PoolSettings)
class PoolSettingsAdmin(ScopedAdmin):
    list_display = ["group", "restricted", "reminder_enabled", "reminder_days", "recurrence", "notify_expired"]
    list_filter = ["restricted", "reminder_enabled", "recurrence"]
    list_select_related = ["group"]


@admin.register(Feature)
class FeatureAdmin(ScopedChoices, SuperuserWrites, admin.ModelAdmin):
    list_display = ["code", "name", "name_uk", "kind", "position"]

    def has_delete_permission(self, request, obj=None):
        return False  # blocks and grants refer to features


__all__ = ["Group"]
