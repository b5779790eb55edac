"""Mail templates, the reminder ledger, and in-app notifications."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from groups.models import Group


class Notification(models.Model):
    """What a person sees under Notifications in the web UI."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=16)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.title


class ReminderLedger(models.Model):
    """One row per (block, reminder day, recipient): claimed in the transaction that sends it."""

    class Kind(models.TextChoices):
        EXPIRING = "expiring", _("Expiring")
        EXPIRED = "expired", _("Expired")

    block = models.ForeignKey("licenses.LicenseBlock", on_delete=models.CASCADE, related_name="reminders")
    day = models.DateField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["block", "day", "recipient"], name="ledger_unique")]
        indexes = [models.Index(fields=["sent_at"], name="ledger_unsent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.block_id} {self.day} → {self.recipient_id}"


class MailTemplate(models.Model):
    """A server administrator's override of a default mail (templates/mail/<kind>.<language>.*)."""

    class Kind(models.TextChoices):
        EXPIRING = "expiring", _("License expiring")
        EXPIRED = "expired", _("License expired")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    language = models.CharField(max_length=2, choices=settings.LANGUAGES)
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "language"], name="mailtemplate_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.language})"
