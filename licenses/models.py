"""Features, license blocks, pools' settings, devices and residents' grants."""

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from groups.models import Group

MAX_QUANTITY = 1_000_000


class Feature(models.Model):
    """The catalogue is data: a new feature is a row, not a release."""

    class Kind(models.TextChoices):
        COUNTED = "counted", _("Counted")
        SWITCH = "switch", _("Switch")

    code = models.SlugField(_("code"), unique=True, max_length=40)
    name = models.CharField(_("name"), max_length=100)
    name_uk = models.CharField(_("name in Ukrainian"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["kind", "position", "code"]
        verbose_name = _("feature")
        verbose_name_plural = _("features")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.name_uk if (get_language() or "").startswith("uk") and self.name_uk else self.name

    @property
    def is_counted(self) -> bool:
        return self.kind == self.Kind.COUNTED


class Recurrence(models.TextChoices):
    ONCE = "once", _("Once")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    EVERY_30_DAYS = "every_30_days", _("Every 30 days")


class PoolSettings(models.Model):
    """The top of a group's Licenses section: restriction and reminders."""

    group = models.OneToOneField(Group, verbose_name=_("group"), on_delete=models.CASCADE, primary_key=True,
                                 related_name="license_settings")
    restricted = models.BooleanField(_("enable restriction"), default=False)
    reminder_enabled = models.BooleanField(_("reminder of the end of the license period"), default=False)
    reminder_days = models.PositiveSmallIntegerField(_("days before expiry"), default=14)
    recurrence = models.CharField(_("recurrence"), max_length=16, choices=Recurrence.choices, default=Recurrence.ONCE)
    notify_expired = models.BooleanField(_("notify when a license has expired"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("license settings")
        verbose_name_plural = _("license settings")
        constraints = [
            models.CheckConstraint(condition=Q(reminder_days__gte=1, reminder_days__lte=365), name="settings_reminder_days_range"),
        ]
        indexes = [models.Index(fields=["restricted"], name="settings_restricted")]

    def __str__(self) -> str:
        return f"{self.group}: {_('restricted') if self.restricted else _('shared')}"


class BlockKind(models.TextChoices):
    TRIAL = "trial", _("Trial")
    BASIC = "basic", _("Basic")
    PLUS = "plus", _("Plus")


class Device(models.Model):
    """A registered intercom device; it brings its group one Basic block."""

    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="devices")
    serial_number = models.CharField(_("serial number"), max_length=64, unique=True)
    model = models.CharField(_("model"), max_length=100)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["serial_number"]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.model} {self.serial_number}"


def exclude_devices(queryset: models.QuerySet, path: str = "device") -> models.QuerySet:
    """Leave out devices' Basic blocks (`path` leads to the block's device), written so that no
    index is used for it: SQLite's planner takes "device_id IS NULL" for a look-up in the unique
    device index and walks every block of every company."""
    return queryset.alias(_no_device=Coalesce(path, 0)).filter(_no_device=0)


class LicenseBlockQuerySet(models.QuerySet):
    def own(self) -> "LicenseBlockQuerySet":
        """Blocks that are not a device's Basic block (see no_device)."""
        return exclude_devices(self)


class LicenseBlock(models.Model):
    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="license_blocks")
    kind = models.CharField(_("kind"), max_length=8, choices=BlockKind.choices, default=BlockKind.PLUS)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Empty: no end."))
    note = models.CharField(_("note"), max_length=200, blank=True)
    device = models.OneToOneField(Device, verbose_name=_("device"), on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="block")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expired_at = models.DateTimeField(_("expired at"), null=True, blank=True,
                                      help_text=_("When the expiry sweep processed it."))
    last_notified_at = models.DateTimeField(_("last notified at"), null=True, blank=True)
    # The next day a reminder (or the "expired" notice) is due, kept by the services so the
    # reminder sweep reads only what is due, whatever the number of blocks.
    next_reminder_on = models.DateField(_("next reminder on"), null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["next_reminder_on", "last_notified_at", "expired_at"])

    objects = LicenseBlockQuerySet.as_manager()

    class Meta:
        ordering = ["valid_from", "pk"]
        verbose_name = _("license block")
        verbose_name_plural = _("license blocks")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="block_dates_in_order",
            ),
        ]
        indexes = [
            models.Index(fields=["valid_until"], name="block_valid_until"),
            models.Index(fields=["valid_until"], condition=Q(expired_at__isnull=True), name="block_unexpired"),
            models.Index(fields=["next_reminder_on"], condition=Q(next_reminder_on__isnull=False), name="block_reminder_due"),
            # Devices' Basic blocks are few among many: pools find them without scanning the rest.
            models.Index(fields=["group"], condition=Q(device__isnull=False), name="block_device_group"),
            models.Index(fields=["group", "valid_from"], name="block_group_from"),
            # The expiry sweep's "which sub-group blocks start these days" reads only those.
            models.Index(fields=["valid_from"], name="block_valid_from"),
        ]

    def __str__(self) -> str:
        until = self.valid_until.isoformat() if self.valid_until else "∞"
        return f"{self.get_kind_display()} {self.valid_from.isoformat()} – {until}"

    def state(self, today: date) -> str:
        """The block's state on `today`, by STATE_RULES (the reports compute the same in SQL)."""
        for field, bound, state in state_rules(today):
            value = getattr(self, field)
            ends_before = field == "valid_until"
            if value is not None and (value < bound if ends_before else value > bound):
                return state
        return "active"

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


ENDING_DAYS = 30  # a block "ends soon" within this many days of its end


def state_rules(on: date) -> list[tuple[str, date, str]]:
    """A block's state on `on`, the first rule that holds: (field, bound, state). valid_from after
    the bound: scheduled; valid_until before it: expired, or ending within ENDING_DAYS; else active.
    A block without an end never expires or ends."""
    return [("valid_from", on, "scheduled"), ("valid_until", on, "expired"),
            ("valid_until", on + timedelta(days=ENDING_DAYS), "ending")]


def state_annotation(on: date) -> models.Case:
    """The same rules as LicenseBlock.state(), as a database expression."""
    return models.Case(
        *[models.When(**{f"{field}__{'lt' if field == 'valid_until' else 'gt'}": bound}, then=models.Value(state))
          for field, bound, state in state_rules(on)],
        default=models.Value("active"), output_field=models.CharField())


class FeatureQuantity(models.Model):
    """How much of one feature: a count of a counted feature, or 1/0 for a switch."""

    feature = models.ForeignKey(Feature, verbose_name=_("feature"), on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(_("quantity"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.feature_id}: {self.quantity}"


class BlockFeature(FeatureQuantity):
    """A block's quantity of one counted feature, or 1/0 for a switch feature."""

    block = models.ForeignKey(LicenseBlock, verbose_name=_("license block"), on_delete=models.CASCADE,
                              related_name="quantities")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("block feature")
        verbose_name_plural = _("block features")
        constraints = [
            models.UniqueConstraint(fields=["block", "feature"], name="block_feature_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0, quantity__lte=MAX_QUANTITY), name="block_quantity_range"),
        ]


class Grant(models.Model):
    """What a resident of an apartment has, taken from the pool that serves the apartment."""

    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="grants")
    granted_at = models.DateTimeField(_("granted at"))
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="grant_unique")]
        indexes = [
            models.Index(fields=["suspended_at", "granted_at"], name="grant_suspended"),
            # "Is any grant under this pool suspended?" reads only the suspended ones, however many grants.
            models.Index(fields=["group"], condition=Q(suspended_at__isnull=False), name="grant_suspended_group"),
        ]

    def __str__(self) -> str:
        return _("%(user)s in %(group)s") % {"user": self.user, "group": self.group}

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class GrantFeature(FeatureQuantity):
    grant = models.ForeignKey(Grant, verbose_name=_("grant"), on_delete=models.CASCADE, related_name="quantities")

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grant feature")
        verbose_name_plural = _("grant features")
        constraints = [
            models.UniqueConstraint(fields=["grant", "feature"], name="grant_feature_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0, quantity__lte=MAX_QUANTITY), name="grant_quantity_range"),
        ]


# --- totals kept per pool (licenses.totals): derived data, rebuilt by rebuild_pool_totals ---------


class PoolChangePoint(models.Model):
    """How much a pool's capacity and its sub-groups' blocks change on one day for one feature.

    The sum of a pool's points up to a day is what it has (capacity) and has handed down
    (carved) that day: a save reads these few rows instead of every block below the pool.
    Written only by licenses.totals, in the write's own transaction; check_integrity derives
    them again from the blocks and reports any difference.
    """

    pool = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    capacity = models.IntegerField(default=0)
    carved = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "feature", "day"], name="pool_point_unique")]

    def __str__(self) -> str:
        return f"{self.pool_id} {self.feature_id} {self.day}: {self.capacity:+} / {self.carved:+}"


class PoolUse(models.Model):
    """What the active grants of the residents a pool serves take of one feature, today."""

    pool = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+")
    residents = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "feature"], name="pool_use_unique")]

    def __str__(self) -> str:
        return f"{self.pool_id} {self.feature_id}: {self.residents}"


class PoolDevices(models.Model):
    """How many devices' Basic blocks count in a pool."""

    pool = models.OneToOneField(Group, on_delete=models.CASCADE, primary_key=True, related_name="+")
    count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.pool_id}: {self.count}"


class SweepRun(models.Model):
    """When each scheduled sweep last started and finished: the beat's freshness, read by the
    health check (a sweep that has not finished within its period means the beat or the workers
    are not doing their job)."""

    name = models.CharField(max_length=100, primary_key=True)  # the task's name
    day = models.DateField(null=True, blank=True)  # the license day it swept
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)  # the last run's failure, empty once one succeeds

    def __str__(self) -> str:
        return f"{self.name}: {self.finished_at or 'never finished'}"
