"""The Django admin for distributors: scoped like the web UI, every save through the services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group as AuthGroup
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from mptt.admin import MPTTModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from config.admin import (
    NotFoundOutsideScope,
    ScopedChoices,
    ScopedInlineFormSet,
    StaffCanView,
    SuperuserWrites,
)
from config.dryrun import dry_run
from config.forms import put_errors

from . import services
from .models import Group, Membership, User
from .scoping import (
    can_create_companies,
    can_manage,
    groups_manageable_by,
    groups_visible_to,
    users_visible_to,
)

admin.site.unregister(AuthGroup)
admin.site.site_header = _("Intercom licenses")


class MembershipInlineForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "role"]

    def clean(self):
        data = super().clean()
        group = self.instance.group if self.instance.group_id else getattr(self, "parent_group", None)
        if group is not None and data.get("role"):
            try:
                services.validate_role(group, data["role"], self.request.user)
            except ValidationError as exc:
                put_errors(exc, self)
        return data


class MembershipInline(ScopedChoices, admin.TabularInline):
    model = Membership
    form = MembershipInlineForm
    formset = ScopedInlineFormSet
    extra = 0
    autocomplete_fields = ["user"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.parent_group = obj
        formset.form.request = request
        return formset

    def has_change_permission(self, request, obj=None):
        return False  # a role is added or removed, never edited in place

    def has_add_permission(self, request, obj=None):
        return obj is not None and can_manage(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and can_manage(request.user, obj)


class GroupAdminForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ["name", "kind", "number", "description", "parent"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        request = self.request
        try:
            if self.instance.pk is None:
                dry_run(services.group_create, parent=data.get("parent"), name=data.get("name", ""),
                        kind=data.get("kind", ""), number=data.get("number", ""),
                        description=data.get("description", ""), actor=request.user)
            else:
                original = Group.objects.get(pk=self.instance.pk)
                dry_run(self._update_and_move, original=original, data=data, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            put_errors(exc, self, field_names={"new_parent": "parent"})
        return data

    @staticmethod
    def _update_and_move(*, original: Group, data: dict, actor: User) -> None:
        if "parent" not in data:
            pass  # the form did not offer a new place
        elif data.get("parent") is not None and data["parent"].pk != original.parent_id:
            services.group_move(group=original, new_parent=data["parent"], actor=actor)
        elif data.get("parent") is None and original.parent_id is not None:
            raise ValidationError({"parent": _("A group cannot become a company; choose a parent.")})
        services.group_update(group=original, name=data["name"], kind=data["kind"], number=data.get("number", ""),
                              description=data.get("description", ""), actor=actor)


@admin.register(Group)
class GroupAdmin(NotFoundOutsideScope, StaffCanView, SimpleHistoryAdmin, MPTTModelAdmin):
    form = GroupAdminForm
    inlines = [MembershipInline]
    list_display = ["name", "kind", "number", "parent_in_scope"]
    list_filter = ["kind", "level"]
    search_fields = ["name", "number"]
    mptt_level_indent = 20
    list_per_page = 100
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request):
        visible = groups_visible_to(request.user)
        return super().get_queryset(request).filter(pk__in=visible.values("pk")).annotate(
            parent_visible=Exists(visible.filter(pk=OuterRef("parent_id"))))

    @admin.display(description=_("parent"), ordering="parent__name")
    def parent_in_scope(self, group):
        # The top of a person's scope has a parent they may not see: it is not named.
        return group.parent if group.parent_visible else "—"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and obj.parent_id and not groups_manageable_by(request.user).filter(
                pk=obj.parent_id).exists():
            # The top of one's scope stays where it is: its parent is not offered, nor named.
            kwargs["fields"] = [f for f in GroupAdminForm.Meta.fields if f != "parent"]
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "parent":
            kwargs["queryset"] = groups_manageable_by(request.user).exclude(kind=Group.Kind.APARTMENT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        queryset, distinct = super().get_search_results(request, queryset, search_term)
        # Autocomplete for other admins' fields goes through here too: stay in scope.
        return queryset.filter(pk__in=groups_visible_to(request.user).values("pk")), distinct

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_staff and groups_manageable_by(request.user).exists()

    def has_change_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or can_manage(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        if obj is None:
            return groups_manageable_by(request.user).exists()
        if obj.parent_id is None:
            return can_create_companies(request.user)
        return can_manage(request.user, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk deletes would bypass the tree lock and the pool checks
        return actions

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            original = Group.objects.get(pk=obj.pk)
            GroupAdminForm._update_and_move(original=original, data=data, actor=request.user)
        else:
            created = services.group_create(parent=data.get("parent"), name=data["name"], kind=data["kind"],
                                            number=data.get("number", ""), description=data.get("description", ""),
                                            actor=request.user)
            obj.pk = created.pk
            obj.refresh_from_db()

    def delete_model(self, request, obj):
        try:
            services.group_delete(group=obj, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads these, which formset.save() would have set.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() and inline_form.instance.pk is None:
                continue
            if formset.can_delete and formset._should_delete_form(inline_form):
                if inline_form.instance.pk:
                    services.membership_remove(membership=inline_form.instance, actor=request.user)
                    formset.deleted_objects.append(inline_form.instance)
            elif inline_form.instance.pk is None:
                formset.new_objects.append(services.membership_add(
                    group=form.instance, user=inline_form.cleaned_data["user"],
                    role=inline_form.cleaned_data["role"], actor=request.user))


@admin.register(Membership)
class MembershipAdmin(NotFoundOutsideScope, StaffCanView, SimpleHistoryAdmin):
    list_display = ["user", "role", "group"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__name", "group__name"]
    list_select_related = ["user", "group"]
    autocomplete_fields = ["user", "group"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(group__in=groups_visible_to(request.user))

    def has_add_permission(self, request):
        return False  # roles are given on the group's page, through the service

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and (obj is None or can_manage(request.user, obj.group))

    def delete_model(self, request, obj):
        services.membership_remove(membership=obj, actor=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(User)
class UserAdmin(NotFoundOutsideScope, SuperuserWrites, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "language", "is_staff", "is_superuser"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("name", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "language", "password1", "password2")}),)
    filter_horizontal = ()
    list_filter = ["is_staff", "is_superuser", "language"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        # People who hold a role somewhere in one's scope, and oneself.
        return qs.filter(pk__in=users_visible_to(request.user).values("pk"))

    def user_change_password(self, request, id, form_url=""):
        self._in_scope_or_404(request, id)
        return super().user_change_password(request, id, form_url)
