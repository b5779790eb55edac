"""Devices and their Basic blocks."""

from datetime import date

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from groups.locks import lock_pools, lock_tree
from groups.models import Group
from groups.scoping import Actor, audit_user, can_manage

from .. import pools, totals
from ..models import (
    BlockKind,
    Device,
    LicenseBlock,
)
from ._base import PoolChange, SaveResult, _features_by_code, require_scope, today
from .blocks import _write_quantities
from .suspension import _resolve, restore_grants


@transaction.atomic
def device_register(*, group: Group, serial_number: str, model: str, actor: Actor,
                    on: date | None = None) -> Device:
    """Register a device in `group`; its Basic block joins the pool that serves the group."""
    serial_number, model = (serial_number or "").strip(), (model or "").strip()
    errors = {}
    if not serial_number:
        errors["serial_number"] = [_("Enter the serial number.")]
    if not model:
        errors["model"] = [_("Enter the model.")]
    if errors:
        raise ValidationError(errors)
    lock_tree(group.tree_id, shared=True)
    require_scope(can_manage, actor, group)
    if Device.objects.filter(serial_number__iexact=serial_number).exists():
        raise ValidationError({"serial_number": [_("A device with this serial number is already registered.")]})
    on = on or today()
    pool = pools.serving_pool(group)
    lock_pools([pool.pk] if pool else [])
    device = Device(group=group, serial_number=serial_number, model=model)
    device._history_user = audit_user(actor)
    device.save()
    block = LicenseBlock(group=group, kind=BlockKind.BASIC, valid_from=on, valid_until=None, device=device,
                         note=_("Basic license of device %(serial)s") % {"serial": serial_number})
    block._history_user = audit_user(actor)
    block.save()
    features = _features_by_code()
    _write_quantities(block, django_settings.LICENSE_BASIC_QUANTITIES, features, actor)
    if pool is not None:
        totals.Changes().spans([totals.block_span(block)], pool_id=pool.pk, column=totals.CAPACITY, sign=+1).device(
            pool_id=pool.pk, sign=+1).apply()
        restore_grants(pool=pool, on=on, actor=actor)
    return device


@transaction.atomic
def device_unregister(*, device: Device, actor: Actor, confirm_suspend: bool = False,
                      on: date | None = None) -> SaveResult:
    """Remove a device and its Basic block, under the same rules as lowering a block."""
    group = device.group
    lock_tree(group.tree_id, shared=True)
    require_scope(can_manage, actor, group)
    on = on or today()
    pool = pools.serving_pool(group)
    change = PoolChange([pool], on=on)
    block = LicenseBlock.objects.filter(device=device).first()
    if pool is not None and block is not None:
        totals.Changes().spans([totals.block_span(block)], pool_id=pool.pk, column=totals.CAPACITY, sign=-1).device(
            pool_id=pool.pk, sign=-1).apply()
    device._history_user = audit_user(actor)
    device.delete()
    return _resolve(change, [pool], confirm=confirm_suspend, actor=actor)
