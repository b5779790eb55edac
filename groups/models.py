"""The group tree, the people in it and the roles they hold."""

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from mptt.models import MPTTModel, TreeForeignKey
from simple_history.models import HistoricalRecords


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person: logs in with their email address."""

    username = None
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Group(MPTTModel):
    """A node of a company's tree. Roots are companies; one mptt tree per company."""

    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        DEALER = "dealer", _("Dealer")
        SITE = "site", _("Site")
        BUILDING = "building", _("Building")
        UNIT = "unit", _("Unit")
        FLOOR = "floor", _("Floor")
        APARTMENT = "apartment", _("Apartment")
        CUSTOM = "custom", _("Custom")

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CUSTOM)
    number = models.CharField(_("number"), max_length=32, blank=True)
    description = models.TextField(_("description"), blank=True)
    parent = TreeForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["lft", "rght", "tree_id", "level"])

    class MPTTMeta:
        order_insertion_by: list[str] = []

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        indexes = [
            models.Index(fields=["tree_id", "lft"], name="group_tree_lft"),
            models.Index(fields=["name"], name="group_name"),
            models.Index(fields=["number"], name="group_number"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(parent__isnull=False) | models.Q(kind="company"),
                name="group_root_is_company",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.number})" if self.number else self.name

    @property
    def can_hold_children(self) -> bool:
        return self.kind != self.Kind.APARTMENT

    @property
    def is_company(self) -> bool:
        return self.parent_id is None


class Role(models.TextChoices):
    COMPANY_ADMIN = "company_admin", _("Company administrator")
    SITE_ADMIN = "site_admin", _("Site administrator")
    CONCIERGE = "concierge", _("Concierge")
    RESIDENT = "resident", _("Resident")


ADMIN_ROLES = (Role.COMPANY_ADMIN, Role.SITE_ADMIN)
STAFF_ROLES = (Role.COMPANY_ADMIN, Role.SITE_ADMIN, Role.CONCIERGE)


class Membership(models.Model):
    """A role a person holds in a group; it reaches the group's whole subtree."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "group", "role"], name="membership_unique"),
        ]
        indexes = [models.Index(fields=["group", "role"], name="membership_group_role")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.group}"

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES
