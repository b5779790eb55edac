"""The expiry sweep: blocks past their last day become expired, pools shrink, residents fall back.

Safe at any time and any number of times: it only looks at blocks not yet marked expired,
works pool by pool in its own transaction, and reads blocks in id-ordered batches so its
memory does not grow with the number of blocks.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from groups.locks import lock_pools, lock_tree
from groups.models import Group
from groups.scoping import SYSTEM, audit_user

from . import pools
from .models import Grant, LicenseBlock
from .services import restore_grants, suspend_to_fit

BATCH = 1000


@dataclass(frozen=True)
class ExpiryAction:
    action: str  # "expired", "suspended", "restored"
    block_id: int | None
    group_id: int
    day: date
    detail: str = ""

    def as_dict(self) -> dict:
        return {"action": self.action, "block": self.block_id, "group": self.group_id,
                "day": self.day.isoformat(), "detail": self.detail}


def due_blocks(on: date, *, after_id: int = 0, limit: int = BATCH) -> list[tuple[int, int]]:
    """(block id, group id) of blocks whose last day is before `on` and that are not yet expired."""
    return list(
        LicenseBlock.objects.filter(valid_until__lt=on, expired_at__isnull=True, pk__gt=after_id)
        .order_by("pk").values_list("pk", "group_id")[:limit]
    )


def expire_licenses(*, on: date, dry_run: bool = False, batch: int = BATCH) -> list[ExpiryAction]:
    actions: list[ExpiryAction] = []
    last_id = 0
    while True:
        rows = due_blocks(on, after_id=last_id, limit=batch)
        if not rows:
            break
        last_id = rows[-1][0]
        by_group: dict[int, list[int]] = {}
        for block_id, group_id in rows:
            by_group.setdefault(group_id, []).append(block_id)
        for group_id, block_ids in by_group.items():
            actions += _expire_group_blocks(group_id, block_ids, on=on, dry_run=dry_run)
    if not dry_run:
        actions += _rebalance(on)
    return actions


# A sub-group's block that started while the sweep was down is still looked at this many days on.
CATCH_UP_DAYS = 7


def _rebalance(on: date) -> list[ExpiryAction]:
    """Pools whose room changed today without a block expiring.

    Where a sub-group's block starts, the owner's room shrinks: its residents are suspended,
    newest first, if they no longer fit. Every pool that serves a suspended grant is offered
    its grants back, oldest first, each checked like a new grant: a renewal or a block that
    starts later brings them back on its first day. Suspended grants are few, so this is cheap.
    """
    actions: list[ExpiryAction] = []
    starting = (LicenseBlock.objects.filter(valid_from__gt=on - timedelta(days=CATCH_UP_DAYS), valid_from__lte=on,
                                            device__isnull=True)
                .values_list("group_id", flat=True).distinct())
    for group in Group.objects.filter(pk__in=list(starting)).order_by("pk"):
        with transaction.atomic():
            lock_tree(group.tree_id, shared=True)
            owner = pools.pool_owner(group) if pools.serving_pool(group) == group else None
            if owner is None:
                continue
            lock_pools([owner.pk])
            for grant in suspend_to_fit(pool=owner, on=on, actor=SYSTEM):
                actions.append(ExpiryAction("suspended", None, grant.group_id, on,
                                            f"grant {grant.pk} of {grant.user.email}"))
    served = Grant.objects.filter(suspended_at__isnull=False).values_list("group_id", flat=True).distinct()
    seen: set[int] = set()
    for group in Group.objects.filter(pk__in=list(served)).order_by("pk"):
        with transaction.atomic():
            lock_tree(group.tree_id, shared=True)
            pool = pools.serving_pool(group)
            if pool is None or pool.pk in seen:
                continue
            seen.add(pool.pk)
            lock_pools([pool.pk])
            for grant in restore_grants(pool=pool, on=on, actor=SYSTEM):
                actions.append(ExpiryAction("restored", None, grant.group_id, on,
                                            f"grant {grant.pk} of {grant.user.email}"))
    return actions


def _expire_group_blocks(group_id: int, block_ids: list[int], *, on: date, dry_run: bool) -> list[ExpiryAction]:
    actions = [ExpiryAction("expired", block_id, group_id, on) for block_id in block_ids]
    if dry_run:
        return actions
    with transaction.atomic():
        group = Group.objects.get(pk=group_id)
        lock_tree(group.tree_id, shared=True)
        owner = pools.pool_owner(group)
        restricted = pools.serving_pool(group) == group
        lock_pools([g.pk for g in (group, owner) if g is not None])
        now = timezone.now()
        # Marked one by one so history records each block's expiry with the system as actor.
        for block in LicenseBlock.objects.filter(pk__in=block_ids, expired_at__isnull=True):
            block.expired_at = now
            block._history_user = audit_user(SYSTEM)
            block.save(update_fields=["expired_at"])
        if restricted:
            for grant in suspend_to_fit(pool=group, on=on, actor=SYSTEM):
                actions.append(ExpiryAction("suspended", None, grant.group_id, on, f"grant {grant.pk} of {grant.user.email}"))
        if owner is not None:
            # The carved block no longer takes from the owner: its residents may come back.
            for grant in restore_grants(pool=owner, on=on, actor=SYSTEM):
                actions.append(ExpiryAction("restored", None, grant.group_id, on, f"grant {grant.pk} of {grant.user.email}"))
    return actions
