"""A dealer's pool that owns many carved child blocks and serves many residents, and the
pool check that every license save runs against it."""

import time
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from groups.models import Group, Membership, Role, User
from licenses import selectors, services, totals
from licenses.models import (
    MAX_QUANTITY,
    BlockFeature,
    BlockKind,
    Device,
    Feature,
    Grant,
    GrantFeature,
    LicenseBlock,
    PoolSettings,
)
from licenses.services import BlockInput, SettingsInput

from .measure import Report, Sample, measure
from .tree import Company

BATCH = 5000
DEALER_SWITCHES = ("remote_door_opening", "guest_access", "elevators")
CHILD_QUANTITIES = {"virtual_numbers": 4, "mobile_apps": 3, "ukey2_keys": 2, "remote_door_opening": 1}
DEVICE_QUANTITIES = {"virtual_numbers": 2, "mobile_apps": 2}
NEW_BLOCK_QUANTITIES = {"virtual_numbers": 2, "mobile_apps": 2, "ukey2_keys": 1, "remote_door_opening": 1}


@dataclass
class Pool:
    pool: Group
    today: date
    child_ids: list[int]  # restricted apartments whose blocks are carved from the pool
    served_apartment_ids: list[int]  # apartments whose residents the pool serves
    resident_apartment: Group  # one apartment with residents, for its page
    residents: int
    devices: int


def _plus(key: str, start: date, end: date | None, quantities: dict[str, int]) -> BlockInput:
    return BlockInput(key=key, id=None, kind=BlockKind.PLUS, valid_from=start, valid_until=end, quantities=quantities)


def _evenly(ids: list[int], count: int) -> list[int]:
    """`count` ids spread evenly over `ids` (which is in tree order)."""
    if count >= len(ids):
        return list(ids)
    return [ids[(i * len(ids)) // count] for i in range(count)]


def _residents(numbers: range, served: list[int], email: str, name: str, first_grant, step: timedelta) -> list[Grant]:
    """Residents numbered `numbers`, round-robin over the `served` apartments, each with a grant
    (granted `step` apart, oldest first), in bulk; their grants, without quantities yet."""
    users = User.objects.bulk_create([User(email=f"{email}-{i}@bench.example", name=f"{name} {i}", password="!bench")
                                      for i in numbers])
    homes = [served[i % len(served)] for i in numbers]
    Membership.objects.bulk_create([Membership(user_id=u.pk, group_id=h, role=Role.RESIDENT)
                                    for u, h in zip(users, homes, strict=True)])
    return Grant.objects.bulk_create([Grant(group_id=h, user_id=u.pk, granted_at=first_grant + step * i)
                                      for i, u, h in zip(numbers, users, homes, strict=True)])


def _scheduled(blocks: list[LicenseBlock], today: date) -> list[LicenseBlock]:
    """Bulk rows with the next reminder day the services would keep (children's default settings)."""
    settings = PoolSettings(restricted=True)
    for block in blocks:
        block.next_reminder_on = services.next_reminder_for(block, settings, today)
    return blocks


def open_pools(bench: Company, *, report: Report) -> None:
    """The root pool and the dealer's pool, through licenses_save, before the tree is built
    (as a distributor would: the dealer gets a pool, then builds its sites)."""
    today = services.today()
    features = {f.code: f for f in Feature.objects.all()}
    switches = [code for code, f in features.items() if not f.is_counted]
    counted = [code for code, f in features.items() if f.is_counted]
    start = time.perf_counter()
    # The vendor sells the company a sourced root pool without end; the company
    # administrator carves the dealer's pool out of it for two years.
    services.licenses_save(
        group=bench.company, actor=bench.operator, settings=SettingsInput(restricted=True),
        blocks=[_plus("root", today, None, {**{c: MAX_QUANTITY for c in counted}, **{s: 1 for s in switches}})])
    dealer_quantities = {"virtual_numbers": 600_000, "mobile_apps": 500_000, "ukey2_keys": 300_000,
                         **{s: 1 for s in DEALER_SWITCHES}}
    bench.dealer.refresh_from_db()
    services.licenses_save(
        group=bench.dealer, actor=bench.admin, settings=SettingsInput(restricted=True),
        blocks=[_plus("dealer", today, today + timedelta(days=729), dealer_quantities)])
    bench.dealer.refresh_from_db()
    report.add("setup", "licenses_save: root pool, then dealer pool", time.perf_counter() - start,
               note="through the service, before the tree is built")


def setup_pool(bench: Company, *, children: int, residents: int, tag: str, report: Report) -> Pool:
    """Restricted children with carved blocks, devices and residents with grants, in bulk.

    Bulk rows skip simple_history and the pool checks: only the setup's speed is lost, and
    the quantities are chosen so that the pool fits (the first timed save would say if not).
    """
    today = services.today()
    features = {f.code: f for f in Feature.objects.all()}
    pool = bench.dealer
    pool.refresh_from_db()

    start = time.perf_counter()
    apartments = list(
        Group.objects.filter(tree_id=pool.tree_id, lft__gt=pool.lft, rght__lt=pool.rght, kind=Group.Kind.APARTMENT)
        .exclude(name__startswith="Bench insert").order_by("lft").values_list("pk", flat=True))
    # Keep at least a tenth of the apartments served by the pool itself, for the residents.
    most = len(apartments) - max(1, len(apartments) // 10)
    if children > most:
        print(f"  !! {len(apartments):,} apartments: {most:,} restricted children instead of {children:,}", flush=True)
    child_ids = _evenly(apartments, min(children, most))
    taken = set(child_ids)
    served = [pk for pk in apartments if pk not in taken]
    buildings = list(Group.objects.filter(tree_id=pool.tree_id, lft__gt=pool.lft, rght__lt=pool.rght,
                                          kind=Group.Kind.BUILDING).values_list("pk", flat=True))
    with transaction.atomic():
        # 10,000 restricted apartments with one carved block each, ending on spread days.
        PoolSettings.objects.bulk_create([PoolSettings(group_id=pk, restricted=True) for pk in child_ids],
                                         batch_size=BATCH)
        blocks = LicenseBlock.objects.bulk_create(_scheduled(
            [LicenseBlock(group_id=pk, kind=BlockKind.PLUS, valid_from=today - timedelta(days=i % 90),
                          valid_until=today + timedelta(days=30 + i % 365), note="Bench child block")
             for i, pk in enumerate(child_ids)], today), batch_size=BATCH)
        BlockFeature.objects.bulk_create(
            [BlockFeature(block_id=b.pk, feature_id=features[code].pk, quantity=q)
             for b in blocks for code, q in CHILD_QUANTITIES.items()], batch_size=BATCH)
        # One intercom per building: its Basic block adds to the pool that serves the building.
        devices = Device.objects.bulk_create(
            [Device(group_id=pk, serial_number=f"BENCH-{tag}-{pk}", model="AV-07T") for pk in buildings],
            batch_size=BATCH)
        device_blocks = LicenseBlock.objects.bulk_create(
            [LicenseBlock(group_id=d.group_id, kind=BlockKind.BASIC, valid_from=today - timedelta(days=200),
                          valid_until=None, device_id=d.pk, note="Bench device") for d in devices],
            batch_size=BATCH)
        BlockFeature.objects.bulk_create(
            [BlockFeature(block_id=b.pk, feature_id=features[code].pk, quantity=q)
             for b in device_blocks for code, q in DEVICE_QUANTITIES.items()], batch_size=BATCH)
        # Residents, round-robin over the apartments the pool serves, each with a grant; in
        # chunks, so that the setup's objects do not dominate the peak memory printed at the end.
        first_grant = timezone.now() - timedelta(days=400)
        grant_rows = 0
        for chunk in range(0, residents, BATCH):
            numbers = range(chunk, min(chunk + BATCH, residents))
            grants = _residents(numbers, served, f"resident-{tag}", "Resident", first_grant, timedelta(minutes=1))
            rows = []
            for i, g in zip(numbers, grants, strict=True):
                for code in ("virtual_numbers", "mobile_apps", "remote_door_opening"):
                    rows.append(GrantFeature(grant_id=g.pk, feature_id=features[code].pk, quantity=1))
                if i % 3 == 0:
                    rows.append(GrantFeature(grant_id=g.pk, feature_id=features["ukey2_keys"].pk, quantity=1))
            GrantFeature.objects.bulk_create(rows)
            grant_rows += len(rows)
            changes = totals.Changes()
            for row in rows:
                changes.residents[(pool.pk, row.feature_id)] += row.quantity
            changes.apply()
        # The rows above skip the services, which keep the pools' totals: add what they hold.
        changes = totals.Changes()
        child_quantities = {features[code].pk: q for code, q in CHILD_QUANTITIES.items()}
        for b in blocks:
            span = (b.valid_from, b.valid_until, child_quantities)
            changes.spans([span], pool_id=b.group_id, column=totals.CAPACITY, sign=+1)
            changes.spans([span], pool_id=pool.pk, column=totals.CARVED, sign=+1)
        device_quantities = {features[code].pk: q for code, q in DEVICE_QUANTITIES.items()}
        changes.spans([(b.valid_from, b.valid_until, device_quantities) for b in device_blocks], pool_id=pool.pk,
                      column=totals.CAPACITY, sign=+1)
        changes.devices[pool.pk] += len(device_blocks)
        changes.apply()
    analyzed = ""
    if connection.vendor == "postgresql":
        # Autovacuum would analyze these fresh tables soon; do it now so plans are stable.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        analyzed = "; ANALYZE run"
    report.add("setup", "bulk rows: children, devices, residents, grants", time.perf_counter() - start,
               note=f"{len(child_ids):,} restricted children, {len(devices):,} devices, {residents:,} residents "
                    f"in {min(len(served), residents):,} apartments, {grant_rows:,} grant rows{analyzed}")
    resident_apartment = Group.objects.get(pk=served[0])
    return Pool(pool=pool, today=today, child_ids=child_ids, served_apartment_ids=served,
                resident_apartment=resident_apartment, residents=residents, devices=len(devices))


def _outcome(sample: Sample, what: str) -> str:
    if sample.interrupted:
        return what
    if isinstance(sample.result, ValidationError):
        return f"REFUSED: {'; '.join(sample.result.messages)}"
    return f"saved; {what}"


def time_pool_check(bench: Company, setup: Pool, *, repeat: int, budget: float | None, report: Report,
                    client=None, label: str = "") -> dict[str, Sample]:
    """The four things a person waits on in one pool: a save, the status, a grant, the Licenses page.
    Returns their samples by name, for the ratio against the same pool grown tenfold."""
    today = setup.today
    middle = len(setup.child_ids) // 2
    suffix = f" ({label})" if label else ""
    samples: dict[str, Sample] = {}

    def add_block(index: int) -> object:
        child = Group.objects.get(pk=setup.child_ids[(middle + index + 7 * len(label)) % len(setup.child_ids)])
        try:
            return services.licenses_save(
                group=child, actor=bench.admin, settings=SettingsInput(restricted=True),
                blocks=[_plus("new", today, today + timedelta(days=180), NEW_BLOCK_QUANTITIES)])
        except ValidationError as exc:
            return exc

    sample = samples["save"] = measure(add_block, repeat=repeat, budget=budget)
    report.add_sample("licenses", f"licenses_save: one more carved block in a child{suffix}", sample,
                      note=_outcome(sample, "checks the dealer pool and the child's"), show_slowest=True)

    def status(_index: int) -> selectors.PoolStatus:
        return selectors.pool_status(group=setup.pool, on=today)

    sample = samples["status"] = measure(status, repeat=repeat, budget=budget)
    report.add_sample("licenses", f"pool_status(dealer pool, today){suffix}", sample, show_slowest=True)
    result: selectors.PoolStatus | None = sample.result
    for row in result.counted if result else []:
        print(f"      {row.feature.code:<16} limit {row.limit:>9,}  held by sub-groups {row.held:>9,}  "
              f"used by residents {row.used:>9,}  available {row.available:>9,}", flush=True)
    if result:
        print(f"      switches in force: {', '.join(f.code for f in result.switches_in_force) or '-'}; "
              f"device blocks: {result.device_blocks:,}", flush=True)

    # A new resident's grant: the other way to add demand (checked for today only).
    newcomers = User.objects.bulk_create(
        [User(email=f"newcomer-{i}-{setup.pool.pk}-{time.time_ns()}@bench.example", password="!bench")
         for i in range(repeat + 1)])
    served = setup.served_apartment_ids
    apartments = [Group.objects.get(pk=served[-1 - i % len(served)]) for i in range(repeat + 1)]
    Membership.objects.bulk_create([Membership(user=u, group=a, role=Role.RESIDENT)
                                    for u, a in zip(newcomers, apartments, strict=True)])

    def grant(index: int) -> object:
        try:
            return services.grant_set(group=apartments[index], user=newcomers[index], actor=bench.admin,
                                      quantities={"virtual_numbers": 1, "mobile_apps": 1})
        except ValidationError as exc:
            return exc

    sample = samples["grant"] = measure(grant, repeat=repeat, budget=budget)
    report.add_sample("licenses", f"grant_set: a new resident's grant{suffix}", sample,
                      note=_outcome(sample, "checks the dealer pool today"), show_slowest=True)

    if client is not None:
        from .tree import time_pages

        samples["page"] = time_pages(client, [("dealer pool licenses" + suffix, f"/licenses/groups/{setup.pool.pk}/",
                                               "")], repeat=repeat, budget=budget, report=report,
                                     section="licenses")[0]
    return samples


def grow(setup: Pool, *, factor: int, tag: str, report: Report) -> str:
    """Ten times the pool's carved blocks and residents (factor - 1 more of each), in bulk, with
    the totals the services would have kept. The new blocks start and end on the same spread of
    days as the first ones (as real renewals do); the new residents' grants take a switch."""
    today = setup.today
    features = {f.code: f for f in Feature.objects.all()}
    pool = setup.pool
    start = time.perf_counter()
    extra_quantities = {"virtual_numbers": 1, "mobile_apps": 1, "ukey2_keys": 1}
    extra_ids = {features[c].pk: q for c, q in extra_quantities.items()}
    blocks_made = residents_made = 0
    with transaction.atomic():
        for round_ in range(1, factor):
            blocks = LicenseBlock.objects.bulk_create(_scheduled(
                [LicenseBlock(group_id=pk, kind=BlockKind.PLUS, valid_from=today - timedelta(days=i % 90),
                              valid_until=today + timedelta(days=30 + (i + round_) % 365), note="Bench grown block")
                 for i, pk in enumerate(setup.child_ids)], today), batch_size=BATCH)
            BlockFeature.objects.bulk_create(
                [BlockFeature(block_id=b.pk, feature_id=fid, quantity=q) for b in blocks for fid, q in extra_ids.items()],
                batch_size=BATCH)
            changes = totals.Changes()
            for b in blocks:
                span = (b.valid_from, b.valid_until, extra_ids)
                changes.spans([span], pool_id=b.group_id, column=totals.CAPACITY, sign=+1)
                changes.spans([span], pool_id=pool.pk, column=totals.CARVED, sign=+1)
            changes.apply()
            blocks_made += len(blocks)
        switch = features["remote_door_opening"].pk
        first_grant = timezone.now() - timedelta(days=300)
        served = setup.served_apartment_ids
        more = setup.residents * (factor - 1)
        for chunk in range(0, more, BATCH):
            numbers = range(chunk, min(chunk + BATCH, more))
            grants = _residents(numbers, served, f"grown-{tag}", "Grown resident", first_grant, timedelta(seconds=1))
            GrantFeature.objects.bulk_create([GrantFeature(grant_id=g.pk, feature_id=switch, quantity=1) for g in grants])
            changes = totals.Changes()
            changes.residents[(pool.pk, switch)] += len(grants)
            changes.apply()
            residents_made += len(grants)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    setup.residents += residents_made
    what = (f"{blocks_made:,} more carved blocks ({blocks_made + len(setup.child_ids):,} in all) and "
            f"{residents_made:,} more residents ({setup.residents:,} in all)")
    report.add("setup", f"grow the dealer pool {factor}x", time.perf_counter() - start, note=what)
    return what


def describe(setup: Pool) -> str:
    return (f"pool {setup.pool.name} (id {setup.pool.pk}): {len(setup.child_ids):,} restricted children, "
            f"{setup.residents:,} residents, {setup.devices:,} devices; today {setup.today}")

