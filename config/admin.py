"""Admin help that belongs to no app: who may write, choices and objects limited to a person's
scope (404 outside it), read-only history records. Every app's admin builds on these."""

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _


class StaffCanView:
    """Active staff see the module and its (scoped) lists; writes are decided per admin."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


class ReadOnly(StaffCanView):
    """Lists and details only: writes go through the web forms' services, or never (ledgers)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserWrites(StaffCanView):
    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


def scoped_choices(admin_site, model, request):
    """What a person may pick of `model` in any admin field: what that model's admin lists them.

    Every registered admin scopes its get_queryset, so choices follow the same scope, whatever
    the widget (a select, an autocomplete, a raw id). An unregistered model offers nothing to
    anyone but the server administrator.
    """
    model_admin = admin_site._registry.get(model)
    if model_admin is not None:
        return model_admin.get_queryset(request)
    return model._default_manager.all() if request.user.is_superuser else model._default_manager.none()


class ScopedChoices:
    """Every foreign-key and many-to-many field of this admin (or inline) offers only what is in scope."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_choices(self.admin_site, db_field.remote_field.model, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_choices(self.admin_site, db_field.remote_field.model, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class NotFoundOutsideScope(ScopedChoices):
    """Objects outside a person's scope answer 404 in every admin view, as in the web UI.

    History is read-only: django-simple-history's record page is a form that saves the old
    record past the services on POST, so it is replaced by a page that only shows the record.
    """

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404("Not found")

    def _in_scope_or_404(self, request, object_id):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("Not found")
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._in_scope_or_404(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._in_scope_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._in_scope_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        obj = self._in_scope_or_404(request, object_id)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        record = get_object_or_404(self.model.history.all(), pk=unquote(version_id), **{self.opts.pk.attname: obj.pk})
        rows = []
        for field in self.model._meta.concrete_fields:
            if field.primary_key or not hasattr(record, field.attname):
                continue
            value = getattr(record, field.attname)
            if field.is_relation and value is not None:
                target = scoped_choices(self.admin_site, field.related_model, request).filter(pk=value).first()
                value = target if target is not None else "—"
            elif field.choices:
                value = dict(field.flatchoices).get(value, value)
            rows.append((field.verbose_name, "—" if value in (None, "") else value))
        context = {
            **self.admin_site.each_context(request),
            "title": _("%(object)s as recorded on %(date)s") % {
                "object": obj, "date": date_format(localtime(record.history_date), "DATETIME_FORMAT")},
            "opts": self.opts, "object": obj, "record": record, "rows": rows,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/history_record.html", context)


class ScopedInlineFormSet(forms.BaseInlineFormSet):
    """An inline's hidden id field accepts only the rows of this inline, not every row of the table."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        pk_name = self.model._meta.pk.name
        if pk_name in form.fields and hasattr(form.fields[pk_name], "queryset"):
            form.fields[pk_name].queryset = self.get_queryset()
