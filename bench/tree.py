"""The big company: built through the bulk service, then a leaf insert and the tree pages."""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.test import Client

from groups import services as group_services
from groups.models import Group, Role, User
from groups.services import GenerationPlan

from .measure import Report, counting_queries, measure, ms

# One building of the usual layout: 4 units × 10 floors × 5 apartments = 245 groups.
UNITS, FLOORS, APARTMENTS_PER_FLOOR = 4, 10, 5
BUILDINGS_PER_CALL = 50
PER_BUILDING = GenerationPlan(buildings=1, units=UNITS, floors=FLOORS, apartments_per_floor=APARTMENTS_PER_FLOOR).total


@dataclass
class Company:
    operator: User
    admin: User
    company: Group
    dealer: Group
    sites: list[Group]


@dataclass(frozen=True)
class Call:
    site_index: int
    plan: GenerationPlan


def _site_count(buildings: int) -> int:
    return 4 if buildings >= 200 else 2 if buildings >= 20 else 1


def plan_calls(total_groups: int) -> tuple[int, list[Call]]:
    """(number of sites, the generate calls) so that the company has exactly `total_groups`
    groups: company + dealer + sites + calls of up to 50 standard buildings, and one small
    top-up building (floors without units) for the remainder."""
    sites = _site_count(max((total_groups - 3) // PER_BUILDING, 1))
    fixed = 2 + sites
    buildings, remainder = divmod(total_groups - fixed, PER_BUILDING)
    if remainder in (1, 2):
        buildings, remainder = buildings - 1, remainder + PER_BUILDING
    if buildings < 1:
        raise SystemExit(f"--groups {total_groups} is too small: use at least {fixed + PER_BUILDING}")
    calls: list[Call] = []
    next_building = [1] * sites
    left = buildings
    index = 0
    while left:
        count = min(BUILDINGS_PER_CALL, left)
        site = index % sites
        calls.append(Call(site, GenerationPlan(buildings=count, units=UNITS, floors=FLOORS,
                                               apartments_per_floor=APARTMENTS_PER_FLOOR,
                                               building_start=next_building[site])))
        next_building[site] += count
        left -= count
        index += 1
    if remainder:
        # 1 building + f floors × a apartments: 1 + f * (1 + a) == remainder.
        floors = max(f for f in range(1, FLOORS + 1) if (remainder - 1) % f == 0 and (remainder - 1) // f >= 2)
        per_floor = (remainder - 1) // floors - 1
        site = sites - 1
        calls.append(Call(site, GenerationPlan(buildings=1, units=0, floors=floors, apartments_per_floor=per_floor,
                                               building_start=next_building[site])))
    assert fixed + sum(c.plan.total for c in calls) == total_groups
    return sites, calls


def start_company(*, tag: str) -> Company:
    """The operator, the company with its administrator, and the dealer, through the services."""
    operator = User.objects.create_superuser(email=f"operator-{tag}@bench.example", password=None)
    admin = User.objects.create_user(email=f"distributor-{tag}@bench.example", password=None,
                                     name="Bench Distributor", is_staff=True)
    company = group_services.group_create(parent=None, name=f"Bench Company {tag}", kind=Group.Kind.COMPANY,
                                          actor=operator)
    group_services.membership_add(group=company, user=admin, role=Role.COMPANY_ADMIN, actor=operator)
    dealer = group_services.group_create(parent=company, name="Bench Dealer", kind=Group.Kind.DEALER, actor=admin)
    return Company(operator=operator, admin=admin, company=company, dealer=dealer, sites=[])


def build_company(bench: Company, *, total_groups: int, report: Report) -> None:
    """Sites under the dealer, then the generate calls; the company ends with `total_groups`."""
    admin, company, dealer = bench.admin, bench.company, bench.dealer
    site_count, calls = plan_calls(total_groups)
    dealer.refresh_from_db()
    sites = [
        group_services.group_create(parent=dealer, name=f"Site {n}", kind=Group.Kind.SITE, number=str(n), actor=admin)
        for n in range(1, site_count + 1)
    ]

    print(f"  {len(calls)} groups_generate calls under {site_count} sites "
          f"({BUILDINGS_PER_CALL} buildings × {UNITS} units × {FLOORS} floors × {APARTMENTS_PER_FLOOR} apartments "
          f"= {GenerationPlan(buildings=BUILDINGS_PER_CALL, units=UNITS, floors=FLOORS, apartments_per_floor=APARTMENTS_PER_FLOOR).total:,} groups each)",
          flush=True)
    generated, elapsed, per_call = 0, 0.0, []
    with counting_queries() as counter:
        for number, call in enumerate(calls, 1):
            site = sites[call.site_index]
            site.refresh_from_db()
            start = time.perf_counter()
            made = group_services.groups_generate(parent=site, plan=call.plan, actor=admin)
            took = time.perf_counter() - start
            generated += made
            elapsed += took
            per_call.append(took)
            print(f"    call {number:>2}: {made:>6,} groups under {site.name:<7} in {ms(took):>9} "
                  f"({made / took:,.0f} groups/s; tree now {generated + 2 + site_count:,})", flush=True)
    queries = counter["n"]
    total = Group.objects.filter(tree_id=company.tree_id).count()
    report.add("build", f"groups_generate × {len(calls)} ({generated:,} groups)", elapsed, queries,
               f"{generated / elapsed:,.0f} groups/s; calls {ms(min(per_call))} – {ms(max(per_call))}; "
               f"company has {total:,} groups")
    company.refresh_from_db()
    dealer.refresh_from_db()
    for site in sites:
        site.refresh_from_db()
    bench.sites = sites
    floor = generation_floor(sites, calls)
    report.add("build", f"floor: the same {generated:,} groups and history rows by raw executemany", floor,
               note="inserted, timed, rolled back")
    report.time_target(f"groups_generate of {generated:,} groups", _Seconds(elapsed), 7.0)
    report.ratio_target("groups_generate / its executemany floor", _Seconds(floor), _Seconds(elapsed), most=3.0)


class _Seconds(float):
    """A figure for Report's targets, where a Sample is not at hand."""

    interrupted = False

    @property
    def median(self) -> float:
        return float(self)


def generation_floor(sites: list[Group], calls: list[Call]) -> float:
    """The same rows as the generate calls (groups, then their history rows) inserted with plain
    executemany and nothing else (no nested-set shift, no ids read back), then rolled back."""
    from django.db import connection, transaction
    from django.utils import timezone

    from groups.services.generate import layout_rows

    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    table = connection.ops.quote_name(Group._meta.db_table)
    history = connection.ops.quote_name(Group.history.model._meta.db_table)
    rows = []
    for call in calls:
        site = sites[call.site_index]
        for level in layout_rows(call.plan, start=10**9, base_level=site.level + 1, parent_lft=site.lft):
            rows += [(r.name, r.kind, r.number, "", site.pk, now, r.lft, r.rght, 10**6, r.level) for r in level]
    with transaction.atomic():
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} (name, kind, number, description, parent_id, created_at, lft, "
                               f"rght, tree_id, level) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
            cursor.executemany(f"INSERT INTO {history} (id, name, kind, number, description, created_at, parent_id, "
                               f"history_date, history_change_reason, history_type, history_user_id) "
                               f"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                               [(10**9 + i, r[0], r[1], r[2], "", now, r[4], now, None, "+", None)
                                for i, r in enumerate(rows)])
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    return seconds


def time_leaf_inserts(bench: Company, *, repeat: int, budget: float | None, report: Report) -> None:
    """group_create of one apartment under the first floor in tree order (mptt shifts almost
    every row to its right) and under the last one (it shifts almost nothing)."""
    floors = Group.objects.filter(tree_id=bench.company.tree_id, kind=Group.Kind.FLOOR)
    first_floor = floors.order_by("lft").first()
    last_floor = floors.order_by("-lft").first()
    for label, floor in (("first floor in tree order", first_floor), ("last floor in tree order", last_floor)):
        def insert(index: int, floor: Group = floor) -> Group:
            floor.refresh_from_db()
            return group_services.group_create(parent=floor, name=f"Bench insert {index}", kind=Group.Kind.APARTMENT,
                                               number=str(900 + index), actor=bench.admin)

        sample = measure(insert, repeat=repeat, budget=budget)
        floor.refresh_from_db()
        # mptt's insert updates every row of the tree whose rght is at or after the parent's.
        shifted = Group.objects.filter(tree_id=bench.company.tree_id, rght__gte=floor.rght).count()
        report.add_sample("tree", f"group_create leaf under {label}", sample,
                          note=f"{shifted:,} rows shifted per insert", show_slowest=True)


def page_client(user: User) -> Client:
    # The Django test client sends Host: testserver; local settings only allow 127.0.0.1.
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(user)
    return client


def time_pages(client: Client, pages: list[tuple[str, str, str]], *, repeat: int, budget: float | None,
               report: Report, section: str = "pages") -> list:
    """GET each (label, url, note) page: one counted run, then `repeat` timed runs; their samples."""
    samples = []
    for label, url, note in pages:
        statuses: set[int] = set()
        sizes: set[int] = set()

        def get(_index: int, url: str = url, statuses: set[int] = statuses, sizes: set[int] = sizes) -> None:
            response = client.get(url)
            statuses.add(response.status_code)
            sizes.add(len(response.content))

        # An interrupted query ends the request with a 500 whose traceback django.request
        # would log: the interruption is reported in the table instead.
        request_log = logging.getLogger("django.request")
        level = request_log.level
        request_log.setLevel(logging.CRITICAL)
        try:
            sample = measure(get, repeat=repeat, budget=budget)
        finally:
            request_log.setLevel(level)
        status = ",".join(str(s) for s in sorted(statuses)) or "-"
        extra = (f"HTTP {status}, {max(sizes) / 1024:,.0f} KiB" if sizes else "") + (f"; {note}" if note else "")
        report.add_sample(section, f"GET {url} ({label})", sample, note=extra,
                          show_slowest=sample.interrupted or statuses != {200} or sample.median > 0.2)
        if statuses - {200}:
            print(f"      !! {url} answered {status}", flush=True)
        samples.append(sample)
    return samples


def time_lookups(bench: Company, pool: Group, *, repeat: int, budget: float | None, report: Report) -> None:
    """pool_owner, recipients and the timeline of the pool, for the group with the most groups to
    its left: O(depth) (the parent chain and the pool's stored totals), not O(groups to the left)."""
    from licenses import pools, services
    from licenses.models import PoolChangePoint
    from notifications.services import recipients_for

    last = Group.objects.filter(tree_id=bench.company.tree_id, kind=Group.Kind.APARTMENT).order_by("-lft").first()
    last_pool = (Group.objects.filter(tree_id=bench.company.tree_id, kind=Group.Kind.APARTMENT,
                                      license_settings__restricted=True).order_by("-lft").first())
    left = Group.objects.filter(tree_id=last.tree_id, lft__lt=last.lft).count()
    today = services.today()
    for name, call in (("pools.pool_owner(last apartment)", lambda _i: pools.pool_owner(last)),
                       ("pools.serving_pool(last apartment)", lambda _i: pools.serving_pool(last)),
                       ("recipients_for(last apartment)", lambda _i: recipients_for(last)),
                       ("pools.timeline(last restricted apartment's pool, today)",
                        lambda _i: pools.timeline(last_pool, today))):
        sample = measure(call, repeat=max(repeat, 5), budget=budget)
        report.add_sample("lookups", name, sample, note=f"depth {last.level}; {left:,} groups to its left")
        report.time_target(f"{name} in a tree of {left + 1:,}+ groups", sample, 0.002)
    # The biggest pool's timeline follows the days its blocks start and end on, not its size.
    points = PoolChangePoint.objects.filter(pool=pool, day__gt=today).count()
    sample = measure(lambda _i: pools.timeline(pool, today), repeat=max(repeat, 5), budget=budget)
    report.add_sample("lookups", "pools.timeline(the dealer's pool, today)", sample,
                      note=f"{points:,} change points after today (a row per feature and day a block ends or starts)")
