"""Reads shaped for the license pages: a pool's status, a group's blocks, residents' grants."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy

from groups.models import Group, Role, User

from . import pools, schedule
from .models import (
    BlockFeature,
    Feature,
    Grant,
    GrantFeature,
    LicenseBlock,
    PoolDevices,
    PoolSettings,
)


@dataclass
class FeatureRow:
    feature: Feature
    limit: int
    held: int
    used: int

    @property
    def available(self) -> int:
        return self.limit - self.held - self.used


@dataclass
class BlockRow:
    block: LicenseBlock
    state: str
    quantities: dict[str, int]  # code -> quantity
    switches: list[Feature]


@dataclass
class PoolStatus:
    group: Group
    pool: Group | None  # the pool that serves the group; None = unlimited
    restricted: bool
    settings: PoolSettings
    counted: list[FeatureRow] = field(default_factory=list)
    switches_in_force: list[Feature] = field(default_factory=list)
    blocks: list[BlockRow] = field(default_factory=list)
    device_blocks: int = 0
    next_reminder: date | None = None


def features() -> tuple[list[Feature], list[Feature]]:
    all_ = list(Feature.objects.all())
    return [f for f in all_ if f.is_counted], [f for f in all_ if not f.is_counted]


def block_rows(blocks: list[LicenseBlock], on: date, feature_list: list[Feature]) -> list[BlockRow]:
    by_id = {f.pk: f for f in feature_list}
    rows = []
    for block in blocks:
        q = {bf.feature_id: bf.quantity for bf in block.quantities.all()}
        rows.append(BlockRow(
            block=block,
            state=block.state(on),
            quantities={by_id[fid].code: q.get(fid, 0) for fid in by_id if by_id[fid].is_counted},
            switches=[by_id[fid] for fid, v in q.items() if v and fid in by_id and not by_id[fid].is_counted],
        ))
    return rows


def group_blocks(group: Group) -> list[LicenseBlock]:
    """The group's own (not device) blocks with their quantities, in two queries."""
    return list(
        LicenseBlock.objects.filter(group=group).own()
        .prefetch_related(Prefetch("quantities", queryset=BlockFeature.objects.all()))
        .order_by("valid_from", "pk")
    )


def pool_status(*, group: Group, on: date) -> PoolStatus:
    settings = PoolSettings.objects.filter(group=group).first() or PoolSettings(group=group)
    pool = group if settings.restricted else pools.serving_pool(group)
    counted, switches = features()
    status = PoolStatus(group=group, pool=pool, restricted=settings.restricted, settings=settings)
    blocks = group_blocks(group)
    status.blocks = block_rows(blocks, on, counted + switches)
    if pool is not None:
        tl = pools.timeline(pool, on)
        capacity, carved = tl.at(on)
        status.counted = [
            FeatureRow(f, capacity.get(f.pk, 0), carved.get(f.pk, 0), tl.residents.get(f.pk, 0)) for f in counted
        ]
        status.switches_in_force = [f for f in switches if capacity.get(f.pk, 0) > 0]
        status.device_blocks = PoolDevices.objects.filter(pool=pool).values_list("count", flat=True).first() or 0
    if settings.reminder_enabled or settings.notify_expired:
        days = [schedule.next_for(b.valid_until, settings, on) for b in blocks]
        days = [d for d in days if d is not None]
        status.next_reminder = min(days) if days else None
    return status


@dataclass
class ResidentRow:
    user: User
    grant: Grant | None
    quantities: dict[str, int]
    switches: set[str]


def apartment_residents(*, group: Group) -> list[ResidentRow]:
    """Residents of an apartment with their grants, in three queries whatever their number."""
    users = list(User.objects.filter(memberships__group=group, memberships__role=Role.RESIDENT).order_by("email"))
    grants = {
        g.user_id: g
        for g in Grant.objects.filter(group=group).prefetch_related(
            Prefetch("quantities", queryset=GrantFeature.objects.select_related("feature")))
    }
    rows = []
    for user in users:
        grant = grants.get(user.pk)
        q: dict[str, int] = defaultdict(int)
        switches = set()
        if grant:
            for gf in grant.quantities.all():
                if gf.feature.is_counted:
                    q[gf.feature.code] = gf.quantity
                elif gf.quantity:
                    switches.add(gf.feature.code)
        rows.append(ResidentRow(user, grant, dict(q), switches))
    return rows


@dataclass
class MyGrant:
    """A resident's grant as My licenses shows it: where, what, and until when."""

    grant: Grant
    building: Group | None
    pool: Group | None  # None: not limited by any pool
    valid_until: date | None  # the last day the pool has licenses, None: no end (or no pool)


FEATURE_HELP = {
    "virtual_numbers": gettext_lazy("a phone number the intercom calls"),
    "mobile_apps": gettext_lazy("the intercom app on a phone"),
    "ukey2_keys": gettext_lazy("a UKEY2 key that opens the door"),
    "remote_door_opening": gettext_lazy("open the door from the app"),
    "guest_access": gettext_lazy("let guests in with a code"),
    "elevators": gettext_lazy("call the lift from the app"),
}


def user_grants(user: User, on: date | None = None) -> list[MyGrant]:
    """The person's grants with their building and the validity of the pool that serves them
    (a handful of queries per grant at most: a resident has few)."""
    from groups.chain import chains

    from .services import today

    on = on or today()
    grants = list(
        Grant.objects.filter(user=user).select_related("group")
        .prefetch_related(Prefetch("quantities", queryset=GrantFeature.objects.select_related("feature")))
        .order_by("group__name")
    )
    homes = [g.group_id for g in grants]
    chain_of = chains(homes)
    by_id = Group.objects.in_bulk({pk for chain in chain_of.values() for pk in chain})
    serving = pools.serving_pools(homes)
    ends = {pk: pools.timeline(by_id[pk], on).last_day() for pk in set(serving.values()) if pk is not None}
    out = []
    for grant in grants:
        chain = [by_id[pk] for pk in chain_of.get(grant.group_id, []) if pk in by_id]
        building = next((g for g in chain if g.kind == Group.Kind.BUILDING), None)
        pool_id = serving.get(grant.group_id)
        out.append(MyGrant(grant, building, by_id.get(pool_id) if pool_id else None, ends.get(pool_id)))
    return out
