"""Mail templates (server administrator only), the reminder ledger (read-only), notifications."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.admin import NotFoundOutsideScope, ReadOnly, ScopedChoices
from config.forms import put_errors
from groups.scoping import groups_visible_to, users_visible_to

from . import mail, services
from .models import MailTemplate, Notification, ReminderLedger


class MailTemplateForm(forms.ModelForm):
    class Meta:
        model = MailTemplate
        fields = ["kind", "language", "subject", "text_body", "html_body"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk and not self.is_bound:
            kind = self.initial.get("kind", "expiring")
            language = self.initial.get("language", "en")
            for part in mail.PARTS:
                self.initial.setdefault(part, mail.default_source(kind, language, part).strip())
        for part in mail.PARTS:
            self.fields[part].help_text = _("Placeholders:") + " " + ", ".join("{{ %s }}" % p for p in mail.PLACEHOLDERS)  # noqa: UP031

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                mail.validate_sources({part: data.get(part, "") for part in mail.PARTS})
            except ValidationError as exc:
                put_errors(exc, self)
        return data


class TestMailForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Send a test mail to"))


@admin.register(MailTemplate)
class MailTemplateAdmin(ScopedChoices, admin.ModelAdmin):
    form = MailTemplateForm
    list_display = ["kind", "language", "subject", "updated_at"]
    change_form_template = "admin/notifications/mailtemplate/change_form.html"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_active and request.user.is_superuser)

    def get_urls(self):
        return [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview), name="notifications_mailtemplate_preview"),
            path("<int:pk>/test/", self.admin_site.admin_view(self.test_mail), name="notifications_mailtemplate_test"),
            *super().get_urls(),
        ]

    def preview(self, request, pk):
        if not request.user.is_superuser:
            raise Http404
        template = get_object_or_404(MailTemplate, pk=pk)
        rendered = mail.render(template.kind, template.language, mail.sample_context(template.language))
        return TemplateResponse(request, "admin/notifications/mailtemplate/preview.html",
                                {**self.admin_site.each_context(request), "rendered": rendered, "template": template,
                                 "opts": self.model._meta, "form": TestMailForm()})

    def test_mail(self, request, pk):
        if not request.user.is_superuser:
            raise Http404
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        template = get_object_or_404(MailTemplate, pk=pk)
        form = TestMailForm(request.POST)
        if form.is_valid():
            try:
                services.send_test_mail(kind=template.kind, language=template.language, to=form.cleaned_data["email"])
            except Exception as exc:  # noqa: BLE001 - shown to the administrator
                messages.error(request, _("Sending failed: %(error)s") % {"error": exc})
            else:
                messages.success(request, _("Test mail sent to %(email)s.") % {"email": form.cleaned_data["email"]})
        else:
            messages.error(request, _("Enter a valid email address."))
        return redirect("admin:notifications_mailtemplate_preview", pk=pk)


@admin.register(ReminderLedger)
class ReminderLedgerAdmin(NotFoundOutsideScope, ReadOnly, admin.ModelAdmin):
    list_display = ["block", "day", "recipient_in_scope", "kind", "sent_at", "attempts"]
    list_filter = ["kind", "day"]
    search_fields = ["block__group__name"]
    list_select_related = ["block", "recipient"]
    fields = ["block", "day", "recipient_in_scope", "kind", "sent_at", "attempts", "last_error"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(block__group__in=groups_visible_to(request.user)).annotate(
            recipient_visible=Exists(users_visible_to(request.user).filter(pk=OuterRef("recipient_id"))))

    @admin.display(description=gettext_lazy("recipient"))
    def recipient_in_scope(self, row):
        # Reminders of a group without administrators go to those above it: they are not named.
        return row.recipient if row.recipient_visible else gettext_lazy("an administrator above your scope")


@admin.register(Notification)
class NotificationAdmin(ReminderLedgerAdmin):
    list_display = ["title", "user", "group", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user", "group"]
    fields = readonly_fields = ["title", "user", "group", "kind", "body", "created_at", "read_at"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if request.user.is_superuser else qs.filter(user=request.user)
