"""The Licenses section of a group: settings and blocks, reminders' schedule, Trial, renewal."""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from groups.locks import lock_tree
from groups.models import Group
from groups.scoping import Actor, audit_user, can_create_companies, can_edit_licenses

from .. import pools, totals
from ..models import (
    BlockFeature,
    BlockKind,
    Feature,
    LicenseBlock,
    PoolSettings,
    Recurrence,
)
from . import whatif
from ._base import (
    BlockInput,
    PoolChange,
    SaveResult,
    SettingsInput,
    _features_by_code,
    require_scope,
    today,
    validate_block_input,
)
from .reminders import reschedule_reminders
from .suspension import _resolve

# --- the Licenses section of a group ----------------------------------------------------


def _write_quantities(block: LicenseBlock, quantities: Mapping[str, int], features: dict[str, Feature],
                      actor: Actor) -> None:
    existing = {bf.feature_id: bf for bf in block.quantities.all()}
    for code, feature in features.items():
        quantity = int(quantities.get(code, 0) or 0)
        row = existing.get(feature.pk)
        if row is None:
            if quantity:
                row = BlockFeature(block=block, feature=feature, quantity=quantity)
                row._history_user = audit_user(actor)
                row.save()
        elif row.quantity != quantity:
            row.quantity = quantity
            row._history_user = audit_user(actor)
            row.save(update_fields=["quantity"])


def _settings_for(group: Group) -> PoolSettings:
    return PoolSettings.objects.filter(group=group).first() or PoolSettings(group=group)


def validate_settings_input(data: SettingsInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(data.reminder_days, int) or not 1 <= data.reminder_days <= 365:
        errors["reminder_days"] = [_("Enter a number of days from 1 to 365.")]
    if data.recurrence not in Recurrence.values:
        errors["recurrence"] = [_("Choose a valid recurrence.")]
    return errors


def allowed_block_kinds(actor: Actor, group: Group) -> list[str]:
    """Which kinds of block `actor` may add to `group`.

    People add Plus blocks; Basic comes only with a device and Trial only with a new company.
    The server administrator may add any kind at a company's root.
    """
    if group.parent_id is None and can_create_companies(actor):
        return [BlockKind.PLUS, BlockKind.TRIAL, BlockKind.BASIC]
    return [BlockKind.PLUS]


@transaction.atomic
def licenses_save(
    *,
    group: Group,
    settings: SettingsInput,
    blocks: list[BlockInput],
    delete_ids: Iterable[int] = (),
    confirm_suspend: bool = False,
    actor: Actor,
    on: date | None = None,
    preview: bool = False,
    ask_first: bool = False,
    confirmed: str | None = None,
) -> SaveResult:
    """Save a group's whole Licenses section at once: all of it, or nothing.

    preview: do everything and report what it would do (or raise what it would refuse), then
    undo it: the same rules, so a preview and the save cannot disagree.
    ask_first: when the change takes something away (a pool holds less on some day, grants are
    suspended, the pool closes), undo it and return its what-if (`held`) for the person to confirm.
    confirmed: the fingerprint of the what-if the person confirmed; the change stays only if it
    still takes away exactly that, else it is held again with the new what-if."""
    on = on or today()
    features = _features_by_code()

    errors: dict[str, list[str]] = validate_settings_input(settings)
    for block in blocks:
        if block_errors := validate_block_input(block, features):
            errors[block.key] = block_errors
    if errors:
        raise ValidationError(errors)

    group.refresh_from_db()
    current = _settings_for(group)
    structure_changes = current.restricted != settings.restricted
    lock_tree(group.tree_id, shared=not structure_changes)
    require_scope(can_edit_licenses, actor, group, _("You cannot edit the licenses of this group."))

    own = {b.pk: b for b in LicenseBlock.objects.filter(group=group).own()}
    delete_ids = {int(i) for i in delete_ids}
    for block in blocks:
        if block.id is not None and block.id not in own:
            raise ValidationError({block.key: [_("This block does not belong to this group.")]})
    unknown = delete_ids - set(own)
    if unknown:
        raise ValidationError(_("Some blocks to remove do not belong to this group."))
    kinds = allowed_block_kinds(actor, group)
    wrong_kind = {block.key: [_("Basic licenses come only with a device and Trial only with a new company: "
                                "add a Plus block.")]
                  for block in blocks
                  if block.kind not in kinds and not (block.id in own and own[block.id].kind == block.kind)}
    if wrong_kind:
        raise ValidationError(wrong_kind)

    owner = pools.pool_owner(group)
    change = PoolChange([owner, group if current.restricted else None], on=on)
    spans_before = totals.own_spans(group.pk) if current.restricted and not structure_changes else []
    describe = preview or ask_first or confirmed is not None
    reminders_before = whatif.reminder_days(group) if describe else {}

    # Apply.
    if current._state.adding or any(getattr(current, k) != v for k, v in settings.__dict__.items()):
        # Saved only when something changed, so history records real changes only.
        for key, value in settings.__dict__.items():
            setattr(current, key, value)
        current._history_user = audit_user(actor)
        current.save()
    for block_id in delete_ids:
        block = own[block_id]
        block._history_user = audit_user(actor)
        block.delete()
    for data in blocks:
        if data.id in delete_ids:
            continue
        block = own.get(data.id) if data.id else LicenseBlock(group=group)
        fields = {"kind": data.kind, "valid_from": data.valid_from, "valid_until": data.valid_until, "note": data.note or ""}
        if block.pk is None or any(getattr(block, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(block, k, v)
            if block.valid_until is None or block.valid_until >= on:
                block.expired_at = None  # renewed
            block._history_user = audit_user(actor)
            block.save()
        _write_quantities(block, data.quantities, features, actor)

    if structure_changes:
        totals.rebuild([owner, group])  # residents, devices and sub-pools change hands: recount both
    elif settings.restricted:
        spans_after = totals.own_spans(group.pk)
        changes = totals.Changes()
        for pool_id, column in ((group.pk, totals.CAPACITY), (owner.pk if owner else None, totals.CARVED)):
            changes.spans(spans_before, pool_id=pool_id, column=column, sign=-1)
            changes.spans(spans_after, pool_id=pool_id, column=column, sign=+1)
        changes.apply()
    reschedule_reminders(group=group, on=on)
    after_pools = [owner, group if settings.restricted else None]
    moved_to = (group if settings.restricted else owner) if structure_changes else None
    result = _resolve(change, after_pools, confirm=confirm_suspend or ask_first or confirmed is not None,
                      actor=actor, blocks=blocks, residents_moved_to=moved_to)
    if describe:
        closes = group if structure_changes and not settings.restricted else None
        result.what_if = whatif.build(change=change, after_pools=after_pools, suspended=result.to_suspend,
                                      reminders_before=reminders_before, group=group, closes=closes,
                                      shared_with=owner)
        takes_away = result.what_if.takes_away
        result.held = takes_away and (ask_first or (confirmed is not None and confirmed != result.what_if.fingerprint))
    if preview or result.held:
        transaction.set_rollback(True)  # this function's own atomic block: nothing of it stays
    return result


# --- companies' Trial -------------------------------------------------------------------


def issue_trial(company: Group, actor: Actor) -> LicenseBlock:
    """A new company gets its own pool with a Trial block: all features, for the trial days."""
    on = today()
    settings = PoolSettings(group=company, restricted=True, reminder_enabled=True, reminder_days=7,
                            recurrence=Recurrence.DAILY, notify_expired=True)
    settings._history_user = audit_user(actor)
    settings.save()
    block = LicenseBlock(group=company, kind=BlockKind.TRIAL, valid_from=on,
                         valid_until=on + timedelta(days=django_settings.LICENSE_TRIAL_DAYS - 1),
                         note=_("Trial"))
    block._history_user = audit_user(actor)
    block.save()
    features = _features_by_code()
    quantities = dict(django_settings.LICENSE_TRIAL_QUANTITIES)
    quantities.update({code: 1 for code, f in features.items() if not f.is_counted})
    _write_quantities(block, quantities, features, actor)
    totals.Changes().spans([totals.block_span(block)], pool_id=company.pk, column=totals.CAPACITY, sign=+1).apply()
    reschedule_reminders(group=company, on=on, settings=settings)
    return block



def block_to_input(block: LicenseBlock, features: dict[str, Feature] | None = None, *, key: str | None = None) -> BlockInput:
    features = features or _features_by_code()
    by_id = {f.pk: code for code, f in features.items()}
    quantities = {by_id[bf.feature_id]: bf.quantity for bf in block.quantities.all()}
    return BlockInput(key=key or f"block-{block.pk}", id=block.pk, kind=block.kind, valid_from=block.valid_from,
                      valid_until=block.valid_until, quantities=quantities, note=block.note)


def settings_input(group: Group) -> SettingsInput:
    s = _settings_for(group)
    return SettingsInput(restricted=s.restricted, reminder_enabled=s.reminder_enabled, reminder_days=s.reminder_days,
                         recurrence=s.recurrence, notify_expired=s.notify_expired)


@transaction.atomic
def block_extend(*, block: LicenseBlock, days: int, actor: Actor) -> LicenseBlock:
    """Renew: move a block's end `days` later, under the same rules as the Licenses form."""
    if block.device_id is not None or block.valid_until is None:
        raise ValidationError(_("This block has no end to extend."))
    if not isinstance(days, int) or not 1 <= days <= 3650:
        raise ValidationError({"days": _("Enter a number of days from 1 to 3650.")})
    data = block_to_input(block)
    data.valid_until = block.valid_until + timedelta(days=days)
    licenses_save(group=block.group, settings=settings_input(block.group), blocks=[data], actor=actor)
    block.refresh_from_db()
    return block
