"""People and roles: memberships and invitations."""


from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Group, Membership, Role, User
from ..scoping import ROLE_RANK, Actor, audit_user, highest_role_over, is_system
from .tree import _require_manage


def roles_for(group: Group) -> list[Role]:
    """The roles a group of this kind can hold: residents live in apartments; administrators and
    concierges serve the groups above them; company administrators, companies."""
    if group.kind == Group.Kind.APARTMENT:
        return [Role.RESIDENT]
    if group.kind == Group.Kind.COMPANY:
        return [Role.COMPANY_ADMIN, Role.SITE_ADMIN, Role.CONCIERGE]
    return [Role.SITE_ADMIN, Role.CONCIERGE]


def validate_role(group: Group, role: str, actor: Actor) -> None:
    """Whether `actor` may give `role` in `group`: a role that fits the group's kind, none above their own."""
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a valid role.")})
    if role not in roles_for(group):
        message = {
            Role.COMPANY_ADMIN: _("A company administrator is assigned to a company."),
            Role.RESIDENT: _("A resident lives in an apartment."),
        }.get(role, _("Administrators and concierges are assigned to groups above apartments."))
        raise ValidationError({"role": message})
    if ROLE_RANK[role] > highest_role_over(actor, group):
        raise ValidationError({"role": _("You cannot give a role above your own.")})


@transaction.atomic
def membership_add(*, group: Group, user: User, role: str, actor: Actor) -> Membership:
    """Give `user` a role in `group`. The actor must administer the group."""
    _require_manage(actor, group)
    validate_role(group, role, actor)
    if Membership.objects.filter(user=user, group=group, role=role).exists():
        raise ValidationError({"email": _("%(user)s already holds this role here.") % {"user": user}})
    membership = Membership(user=user, group=group, role=role)
    membership._history_user = audit_user(actor)
    membership.save()
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: Actor) -> None:
    _require_manage(actor, membership.group)
    if not is_system(actor) and membership.user_id == actor.pk and not actor.is_superuser:
        raise ValidationError(_("You cannot remove your own role."))
    membership._history_user = audit_user(actor)
    membership.delete()


@transaction.atomic
def user_invite(
    *, email: str, name: str, language: str, group: Group, role: str, actor: Actor,
    domain: str = "127.0.0.1:8000", use_https: bool = False,
) -> Membership:
    """Give the role to the person with this email, creating their account if needed.

    A new person gets a mail with a link to choose their password.
    """
    email = (email or "").strip().lower()
    if not email:
        raise ValidationError({"email": _("Enter an email address.")})
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User(email=email, name=name or "", language=language or settings.LANGUAGE_CODE)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    membership = membership_add(group=group, user=user, role=role, actor=actor)
    if created:
        _send_invitation(user, domain=domain, use_https=use_https)
    return membership


def _send_invitation(user: User, *, domain: str, use_https: bool) -> None:
    # Django's password reset machinery makes the one-time "choose your password" link.
    form = PasswordResetForm(data={"email": user.email})
    form.is_valid()
    context = {"user": user, "domain": domain, "protocol": "https" if use_https else "http"}
    form.send_mail(
        "registration/invitation_subject.txt",
        "registration/invitation_email.txt",
        {**context, **_reset_context(user)},
        None,
        user.email,
    )


def _reset_context(user: User) -> dict:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return {"uid": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user)}
