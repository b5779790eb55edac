"""Residents' grants."""

import dataclasses
from collections.abc import Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.locks import lock_tree
from groups.models import Group, Role, User
from groups.scoping import Actor, audit_user, can_manage

from .. import pools, totals
from ..models import (
    Grant,
    GrantFeature,
)
from ._base import (
    PoolChange,
    PoolFacts,
    _features_by_code,
    _raise_hard,
    require_scope,
    today,
    validate_quantities,
)


def residents_of(group: Group):
    return User.objects.filter(memberships__group=group, memberships__role=Role.RESIDENT)


@transaction.atomic
def grant_set(*, group: Group, user: User, quantities: Mapping[str, int], actor: Actor,
              on: date | None = None) -> Grant:
    """Set a resident's counted quantities and switches, within what their pool has today."""
    lock_tree(group.tree_id, shared=True)
    require_scope(can_manage, actor, group)
    if group.kind != Group.Kind.APARTMENT or not residents_of(group).filter(pk=user.pk).exists():
        raise ValidationError(_("%(user)s is not a resident of %(group)s.") % {"user": user, "group": group})
    features = _features_by_code()
    if errors := validate_quantities(quantities, features):
        raise ValidationError({"__all__": errors})
    on = on or today()
    pool = pools.serving_pool(group)
    change = PoolChange([pool], on=on)
    grant = Grant.objects.filter(group=group, user=user).first()
    # What this grant takes from the pool today, before the change (a suspended one takes nothing).
    before_amounts: dict[int, int] = {}
    if grant is None:
        grant = Grant(group=group, user=user, granted_at=timezone.now())
        grant._history_user = audit_user(actor)
        grant.save()
    else:
        if grant.suspended_at is None:
            before_amounts = dict(grant.quantities.values_list("feature_id", "quantity"))
        else:
            # Editing a suspended grant asks for it back; it must fit like a new one.
            grant.suspended_at = None
            grant._history_user = audit_user(actor)
            grant.save(update_fields=["suspended_at"])
    existing = {gf.feature_id: gf for gf in grant.quantities.all()}
    for code, feature in features.items():
        if code not in quantities:
            continue
        quantity = quantities[code]
        row = existing.get(feature.pk)
        if row is None and quantity:
            row = GrantFeature(grant=grant, feature=feature, quantity=quantity)
            row._history_user = audit_user(actor)
            row.save()
        elif row is not None and row.quantity != quantity:
            row.quantity = quantity
            row._history_user = audit_user(actor)
            row.save(update_fields=["quantity"])
    if pool is not None:
        # Only the residents' totals change: the "after" timeline is the "before" one with this
        # grant's difference added, so the pool is read once, not twice.
        before = change.before[pool.pk]
        after_amounts = dict(grant.quantities.values_list("feature_id", "quantity"))
        residents = dict(before.residents)
        for fid in set(before_amounts) | set(after_amounts):
            residents[fid] = residents.get(fid, 0) + after_amounts.get(fid, 0) - before_amounts.get(fid, 0)
        after = dataclasses.replace(before, residents=residents)
        totals.Changes().grant(before_amounts, pool_id=pool.pk, sign=-1).grant(
            after_amounts, pool_id=pool.pk, sign=+1).apply()
        shortfalls = pools.compare(before, after, change.features, for_grant=True)
        if shortfalls:
            _raise_hard([(s, PoolFacts(after.last_day())) for s in shortfalls])
    return grant



@transaction.atomic
def grants_set_bulk(*, group: Group, quantities_by_user: Mapping[User, Mapping[str, int]], actor: Actor,
                    on: date | None = None) -> list[Grant]:
    """Set the grants of several residents of one apartment at once: all of them, or none."""
    grants = []
    for user, quantities in quantities_by_user.items():
        try:
            grants.append(grant_set(group=group, user=user, quantities=quantities, actor=actor, on=on))
        except ValidationError as exc:
            raise ValidationError({f"u{user.pk}": exc.messages}) from exc
    return grants
