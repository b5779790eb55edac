"""The expiry sweep: blocks past their last day become expired, pools shrink, residents fall back.

Safe at any time and any number of times: it only looks at blocks not yet marked expired and
reads them in id-ordered batches, so its memory does not grow with the number of blocks. It is
set-based: a batch of due blocks is one UPDATE and one bulk history INSERT, and only the pools whose
residents no longer fit (the stored totals say which, without reading the pools) get per-pool
work. A block's end already shrank its pool's timeline on its last day + 1 (capacity is a
function of the dates); marking it is the record, the suspensions are the consequence.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from groups.locks import lock_pools, lock_tree
from groups.models import Group
from groups.scoping import SYSTEM, audit_user

from . import pools
from .models import Feature, Grant, LicenseBlock, PoolChangePoint, PoolUse
from .pools import restricted_q
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
    """Mark the due blocks expired, a batch at a time (one UPDATE and one history INSERT a batch);
    then suspend residents only in the pools whose capacity fell below what they serve (found
    from the stored totals, a query per thousand pools); then offer suspended grants back."""
    actions: list[ExpiryAction] = []
    touched: set[int] = set()
    last_id = 0
    while True:
        rows = due_blocks(on, after_id=last_id, limit=batch)
        if not rows:
            break
        last_id = rows[-1][0]
        if dry_run:
            actions += [ExpiryAction("expired", pk, group_id, on) for pk, group_id in rows]
            continue
        marked = _mark_expired([pk for pk, _g in rows], on=on)
        actions += [ExpiryAction("expired", pk, group_id, on) for pk, group_id in marked]
        touched.update(group_id for _pk, group_id in marked)
    if not dry_run:
        for pool_id in pools_short_today(touched, on):
            actions += _suspend_in(pool_id, on)
        actions += _rebalance(on)
    return actions


def _mark_expired(block_ids: list[int], *, on: date) -> list[tuple[int, int]]:
    """One batch, in one transaction: the blocks still due (a renewal may have come first; it
    waits for this one otherwise), marked with one UPDATE and their history rows in one INSERT."""
    with transaction.atomic():
        for tree_id in sorted(set(Group.objects.filter(license_blocks__pk__in=block_ids)
                                  .values_list("tree_id", flat=True))):
            lock_tree(tree_id, shared=True)
        blocks = list(LicenseBlock.objects.select_for_update().filter(
            pk__in=block_ids, valid_until__lt=on, expired_at__isnull=True).order_by("pk"))
        now = timezone.now()
        for block in blocks:
            block.expired_at = now
        # One UPDATE (every row gets the same value), and simple_history's bulk insert of their
        # history rows, with the system as actor (as bulk_update_with_history does, without its CASE).
        LicenseBlock.objects.filter(pk__in=[b.pk for b in blocks]).update(expired_at=now)
        LicenseBlock.history.bulk_history_create(blocks, update=True, default_user=audit_user(SYSTEM),
                                                 default_date=now)
    return [(b.pk, b.group_id) for b in blocks]


def pools_short_today(group_ids: Iterable[int], on: date, chunk: int = 1000) -> list[int]:
    """Of these groups, the pools whose residents no longer fit today: a counted feature whose
    capacity, less what sub-groups hold, is below what residents use, or a switch residents use
    that the pool no longer has. Read from the stored totals, a thousand pools a query."""
    ids = sorted(group_ids)
    short: list[int] = []
    switches = set(Feature.objects.filter(kind=Feature.Kind.SWITCH).values_list("pk", flat=True))
    for at in range(0, len(ids), chunk):
        part = ids[at:at + chunk]
        use = defaultdict(dict)
        for pool_id, feature_id, residents in PoolUse.objects.filter(pool_id__in=part, residents__gt=0).values_list(
                "pool_id", "feature_id", "residents"):
            use[pool_id][feature_id] = residents
        if not use:
            continue
        left = defaultdict(lambda: defaultdict(int))
        for pool_id, feature_id, capacity, carved in (
                PoolChangePoint.objects.filter(pool_id__in=list(use), day__lte=on)
                .values("pool_id", "feature_id").annotate(c=Sum("capacity"), k=Sum("carved"))
                .values_list("pool_id", "feature_id", "c", "k")):
            left[pool_id][feature_id] = (capacity or 0) > 0 if feature_id in switches else \
                (capacity or 0) - (carved or 0)
        for pool_id, needs in use.items():
            if any((not left[pool_id][f]) if f in switches else left[pool_id][f] < n for f, n in needs.items()):
                short.append(pool_id)
    return short


def _suspend_in(pool_id: int, on: date) -> list[ExpiryAction]:
    with transaction.atomic():
        pool = Group.objects.get(pk=pool_id)
        lock_tree(pool.tree_id, shared=True)
        lock_pools([pool.pk])
        return [ExpiryAction("suspended", None, grant.group_id, on, f"grant {grant.pk} of {grant.user.email}")
                for grant in suspend_to_fit(pool=pool, on=on, actor=SYSTEM)]


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
    # Restricted groups whose own block starts: the pool serving each one's parent is squeezed.
    # Siblings share that pool, so it is found once per parent and checked once per pool.
    parents = (Group.objects.filter(
        restricted_q(), pk__in=LicenseBlock.objects.filter(
            valid_from__gt=on - timedelta(days=CATCH_UP_DAYS), valid_from__lte=on).own()
        .values("group_id"), parent__isnull=False).values_list("parent_id", flat=True).distinct())
    owner_ids = {pk for pk in pools.serving_pools(list(parents)).values() if pk is not None}
    for owner in Group.objects.filter(pk__in=owner_ids).order_by("pk"):
        with transaction.atomic():
            lock_tree(owner.tree_id, shared=True)
            lock_pools([owner.pk])
            for grant in suspend_to_fit(pool=owner, on=on, actor=SYSTEM):
                actions.append(ExpiryAction("suspended", None, grant.group_id, on,
                                            f"grant {grant.pk} of {grant.user.email}"))
    # Every pool serving a suspended grant (found for all of them at once) offers them back.
    homes = list(Grant.objects.filter(suspended_at__isnull=False).values_list("group_id", flat=True).distinct())
    serving_ids = {pk for pk in pools.serving_pools(homes).values() if pk is not None}
    for pool in Group.objects.filter(pk__in=serving_ids).order_by("pk"):
        with transaction.atomic():
            lock_tree(pool.tree_id, shared=True)
            lock_pools([pool.pk])
            for grant in restore_grants(pool=pool, on=on, actor=SYSTEM):
                actions.append(ExpiryAction("restored", None, grant.group_id, on,
                                            f"grant {grant.pk} of {grant.user.email}"))
    return actions
