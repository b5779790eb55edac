"""The expiry sweep: blocks past their last day become expired, pools shrink, residents fall back.

Safe at any time and any number of times: it only looks at blocks not yet marked expired,
works pool by pool in its own transaction, and reads blocks in id-ordered batches so its
memory does not grow with the number of blocks.
"""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from groups.locks import lock_pools, lock_tree
from groups.models import Group
from groups.scoping import SYSTEM

from . import pools
from .models import LicenseBlock
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
            block._history_user = None
            block.save(update_fields=["expired_at"])
        if restricted:
            for grant in suspend_to_fit(pool=group, on=on, actor=SYSTEM):
                actions.append(ExpiryAction("suspended", None, grant.group_id, on, f"grant {grant.pk} of {grant.user.email}"))
        if owner is not None:
            # The carved block no longer takes from the owner: its residents may come back.
            for grant in restore_grants(pool=owner, on=on, actor=SYSTEM):
                actions.append(ExpiryAction("restored", None, grant.group_id, on, f"grant {grant.pk} of {grant.user.email}"))
    return actions
