"""`python -m bench.loadtest.data [--fresh]`: the load test's database, built through the services.

One operator (superuser), one company with its own pool (a Plus block), 50 dealers, each
restricted with a Plus block carved from the company's pool, each with its administrator
(dealer-01@load.example … dealer-50@load.example, role Site administrator on the dealer) and
about 2,000 groups generated under two sites; in each dealer a restricted site, four restricted
buildings (what the load test adds blocks to) and 20 residents with grants; and one small
shared pool, "Contention", administered by dealer-01 … dealer-05, with five restricted
sub-groups that the load test makes race for its little room.

Without --fresh an existing load database is kept (only the manifest is written again);
--fresh drops `licensetree_load` (and no other database) and builds it anew. The manifest,
var/loadtest/manifest.json, tells the locustfile the ids of what each user works on.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from urllib.parse import unquote, urlsplit

from . import DEFAULT_DB_URL, DROPPABLE, MANIFEST, PASSWORD

COMPANY = "Load Company"
CONTENTION = "Contention"
CONTENTION_USERS = 5
# The Contention pool's room and what each racer asks for: one fits alone, two never do.
CONTENTION_ROOM = {"virtual_numbers": 10, "mobile_apps": 10, "ukey2_keys": 5}
CONTENTION_ASK = 6
# Per dealer: Site 1 and Site 2 with 4 buildings each of 4 units × 10 floors × 5 apartments
# (245 groups a building), and a small building in Site 2 (4 floors × 8 apartments = 37 groups):
# 1 + 2 + 8 × 245 + 37 = 2,000 groups a dealer; 50 dealers, the company and Contention's
# 6 groups make 100,007.
BUILDINGS, UNITS, FLOORS, PER_FLOOR = 4, 4, 10, 5
TOPUP_FLOORS, TOPUP_PER_FLOOR = 4, 8
RESIDENTS_PER_DEALER = 20
DEALER_SWITCHES = ["remote_door_opening", "guest_access", "elevators"]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest.data", description=__doc__.split("\n")[0])
    parser.add_argument("--fresh", action="store_true", help=f"drop and recreate the database {DROPPABLE} first")
    parser.add_argument("--db-url", default=os.environ.get("LOADTEST_DB_URL", DEFAULT_DB_URL),
                        help=f"PostgreSQL URL of the load database (default {DEFAULT_DB_URL})")
    parser.add_argument("--dealers", type=int, default=50, help="dealers, each with its administrator (default 50)")
    parser.add_argument("--residents", type=int, default=RESIDENTS_PER_DEALER,
                        help=f"residents with grants per dealer (default {RESIDENTS_PER_DEALER})")
    parser.add_argument("--check", action="store_true",
                        help="only say whether the load data is there (exit status 0) or not (1)")
    args = parser.parse_args(argv)
    if not 1 <= args.dealers <= 99:
        parser.error("--dealers must be 1 to 99")
    if not 0 <= args.residents <= 40:
        parser.error("--residents must be 0 to 40")
    return args


def _database_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.split("+")[0] not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"the load database must be PostgreSQL, not {url}")
    return unquote(parts.path.lstrip("/"))


def _admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    params = {"host": parts.hostname or "127.0.0.1", "port": parts.port or 5432,
              "user": unquote(parts.username) if parts.username else None,
              "password": unquote(parts.password) if parts.password else None,
              "dbname": "postgres", "autocommit": True, "connect_timeout": 10}
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None})


def database_exists(url: str) -> bool:
    with _admin_connection(url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [_database_name(url)]).fetchone() is not None


def prepare_database(url: str, *, fresh: bool) -> str:
    """Create the database if missing; with fresh, drop it first (only ever licensetree_load)."""
    from psycopg import sql

    name = _database_name(url)
    with _admin_connection(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            if name != DROPPABLE:
                raise SystemExit(f"refusing to drop {name!r}: the load test only ever drops {DROPPABLE!r}")
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
            note = "dropped and created"
        else:
            note = "created"
        if exists:
            return "existing database"
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return note


def setup_django(url: str) -> None:
    # Local settings pointed at the load database (production settings would need a secret key
    # and hosts for nothing here). DEBUG off: no query log growing while 100,000 groups are made.
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ.setdefault("LOG_FORMAT", "text")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    # Tasks the services hand over on commit go nowhere (no reminder is due for these blocks anyway).
    os.environ["CELERY_BROKER_URL"] = "memory://"
    import django

    django.setup()


class Clock:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.last = self.start

    def step(self, what: str) -> None:
        now = time.perf_counter()
        print(f"  {what:<58} {now - self.last:7.1f} s   (total {now - self.start:6.1f} s)", flush=True)
        self.last = now


def _plus(key, start, end, quantities: dict, note: str = ""):
    from licenses.services import BlockInput

    return BlockInput(key=key, id=None, kind="plus", valid_from=start, valid_until=end, quantities=quantities,
                      note=note)


def _q(vn: int, apps: int, keys: int, switches=()) -> dict:
    return {"virtual_numbers": vn, "mobile_apps": apps, "ukey2_keys": keys, **{s: 1 for s in switches}}


def build(*, dealers: int, residents: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from groups import services as groups
    from groups.models import Group, Role, User
    from licenses import services
    from licenses.models import Feature
    from licenses.services import SettingsInput

    clock = Clock()
    today = services.today()
    year = today + timedelta(days=365)
    # One hash for every login: the same password, hashed once instead of 56 times.
    password = make_password(PASSWORD)

    def person(email: str, name: str, **extra) -> User:
        return User.objects.create(email=email, name=name, password=password, **extra)

    operator = person("operator@load.example", "Load Operator", is_staff=True, is_superuser=True)
    company = groups.group_create(parent=None, name=COMPANY, kind=Group.Kind.COMPANY, actor=operator)
    switches = list(Feature.objects.filter(kind=Feature.Kind.SWITCH).values_list("code", flat=True))
    services.licenses_save(group=company, actor=operator, settings=SettingsInput(restricted=True),
                           blocks=[_plus("root", today, None, _q(400_000, 400_000, 200_000, switches),
                                         note="Load test: the company's pool")])
    clock.step("operator, company and its pool")

    layout = groups.GenerationPlan(buildings=BUILDINGS, units=UNITS, floors=FLOORS, apartments_per_floor=PER_FLOOR)
    topup = groups.GenerationPlan(buildings=1, units=0, floors=TOPUP_FLOORS, apartments_per_floor=TOPUP_PER_FLOOR,
                                  building_start=BUILDINGS + 1)
    admins = []
    for n in range(1, dealers + 1):
        # Each dealer is built whole before the next is created, so every insert lands at the
        # right end of the company's tree and shifts (almost) nothing.
        company.refresh_from_db()
        dealer = groups.group_create(parent=company, name=f"Dealer {n:02d}", kind=Group.Kind.DEALER,
                                     number=f"D{n:02d}", actor=operator)
        admin = person(f"dealer-{n:02d}@load.example", f"Dealer {n:02d} Administrator")
        admins.append(admin)
        groups.membership_add(group=dealer, user=admin, role=Role.SITE_ADMIN, actor=operator)
        services.licenses_save(group=dealer, actor=operator, settings=SettingsInput(restricted=True),
                               blocks=[_plus("dealer", today, year, _q(5_000, 5_000, 2_000, DEALER_SWITCHES),
                                             note="Load test: the dealer's pool")])
        sites = []
        for s in (1, 2):
            dealer.refresh_from_db()
            site = groups.group_create(parent=dealer, name=f"Site {s}", kind=Group.Kind.SITE, number=f"{n:02d}-{s}",
                                       actor=admin)
            groups.groups_generate(parent=site, plan=layout, actor=admin)
            if s == 2:
                site.refresh_from_db()
                groups.groups_generate(parent=site, plan=topup, actor=admin)
            site.refresh_from_db()
            sites.append(site)
        site1, site2 = sites
        # Site 1 keeps its own pool carved from the dealer's; two buildings in each site keep
        # their own pools too (Site 1's carved from Site 1, Site 2's from the dealer).
        services.licenses_save(group=site1, actor=admin, settings=SettingsInput(restricted=True),
                               blocks=[_plus("site", today, today + timedelta(days=300),
                                             _q(400, 400, 200, ["remote_door_opening", "guest_access"]))])
        for site in sites:
            for building in site.get_children().filter(kind=Group.Kind.BUILDING).order_by("lft")[:2]:
                services.licenses_save(group=building, actor=admin, settings=SettingsInput(restricted=True),
                                       blocks=[_plus("building", today, today + timedelta(days=240),
                                                     _q(40, 40, 20, ["remote_door_opening"]))])
        # Residents in the third building of each site: half served by Site 1's pool, half by the dealer's.
        homes = []
        for site in sites:
            building = site.get_children().filter(kind=Group.Kind.BUILDING).order_by("lft")[2]
            homes += list(building.get_descendants().filter(kind=Group.Kind.APARTMENT).order_by("lft")
                          [:(residents + 1) // 2])
        for r in range(residents):
            apartment = homes[(r // 2) + (r % 2) * ((residents + 1) // 2)] if residents > 1 else homes[0]
            resident = User.objects.create(email=f"resident-{n:02d}-{r + 1:02d}@load.example",
                                           name=f"Resident {n:02d}-{r + 1:02d}", password="!load")
            groups.membership_add(group=apartment, user=resident, role=Role.RESIDENT, actor=admin)
            services.grant_set(group=apartment, user=resident, actor=admin,
                               quantities=_q(1, 1, r % 2, ["remote_door_opening"]))
        if n % 10 == 0 or n == dealers:
            total = Group.objects.filter(tree_id=company.tree_id).count()
            clock.step(f"dealers {n - (n - 1) % 10:02d}–{n:02d} ({total:,} groups so far)")

    # The shared pool the contention users race for: little room, five restricted sub-groups.
    company.refresh_from_db()
    contention = groups.group_create(parent=company, name=CONTENTION, kind=Group.Kind.DEALER, number="C",
                                     actor=operator)
    services.licenses_save(group=contention, actor=operator, settings=SettingsInput(restricted=True),
                           blocks=[_plus("contention", today, year, dict(CONTENTION_ROOM),
                                         note="Load test: little room on purpose")])
    racers = admins[:CONTENTION_USERS]
    for admin in racers:
        groups.membership_add(group=contention, user=admin, role=Role.SITE_ADMIN, actor=operator)
    for k, admin in enumerate(racers, 1):
        contention.refresh_from_db()
        child = groups.group_create(parent=contention, name=f"Contention {k}", kind=Group.Kind.SITE,
                                    number=f"C-{k}", actor=admin)
        services.licenses_save(group=child, actor=admin, settings=SettingsInput(restricted=True), blocks=[])
    clock.step("the Contention pool and its five sub-groups")

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    clock.step("ANALYZE")
    total = Group.objects.filter(tree_id=company.tree_id).count()
    print(f"  built {total:,} groups in the company, {dealers} dealer administrators, "
          f"{dealers * residents:,} residents with grants in {clock.last - clock.start:.1f} s", flush=True)


def manifest(*, dealers_expected: int | None = None) -> dict:
    """What each load-test user works on, read from the database (by name, so it matches any build)."""
    from groups.models import Group, Membership, Role
    from licenses.models import LicenseBlock, PoolSettings

    company = Group.objects.filter(parent__isnull=True, name=COMPANY).first()
    if company is None:
        raise SystemExit("no load data in this database: run python -m bench.loadtest.data --fresh")
    restricted = set(PoolSettings.objects.filter(group__tree_id=company.tree_id, restricted=True)
                     .values_list("group_id", flat=True))
    dealers = []
    memberships = (Membership.objects.filter(role=Role.SITE_ADMIN, group__parent=company, group__kind=Group.Kind.DEALER,
                                             user__email__startswith="dealer-")
                   .exclude(group__name=CONTENTION).select_related("user", "group").order_by("user__email"))
    for m in memberships:
        dealer = m.group
        sites = list(dealer.get_children().order_by("lft"))
        below = dealer.get_descendants()
        targets = [g.pk for g in below.filter(kind=Group.Kind.BUILDING).order_by("lft") if g.pk in restricted]
        residents = list(Membership.objects.filter(role=Role.RESIDENT, group__tree_id=dealer.tree_id,
                                                   group__lft__gt=dealer.lft, group__rght__lt=dealer.rght)
                         .order_by("user__email").values_list("group_id", "user_id"))
        apartments = list(below.filter(kind=Group.Kind.APARTMENT).order_by("lft").values_list("pk", flat=True))
        # Pages to open: the dealer (read only for its administrator), its sites, the restricted
        # buildings, and a spread of apartments.
        pages = [dealer.pk, *[s.pk for s in sites], *targets, *apartments[:: max(1, len(apartments) // 8)]]
        dealers.append({"email": m.user.email, "dealer": dealer.pk, "dealer_name": dealer.name,
                        "sites": [s.pk for s in sites], "targets": targets, "pages": pages,
                        "residents": [{"apartment": a, "user": u} for a, u in residents]})
    if dealers_expected is not None and len(dealers) != dealers_expected:
        print(f"  note: {len(dealers)} dealers in the database, {dealers_expected} asked for", flush=True)
    contention = Group.objects.get(parent=company, name=CONTENTION)
    children = {}
    for child in contention.get_children().order_by("lft"):
        admin = (Membership.objects.filter(role=Role.SITE_ADMIN, group=contention).order_by("user__email")
                 .values_list("user__email", flat=True))[int(child.number.split("-")[1]) - 1]
        children[admin] = child.pk
    room = {}
    for block in LicenseBlock.objects.filter(group=contention).prefetch_related("quantities__feature"):
        for q in block.quantities.all():
            room[q.feature.code] = room.get(q.feature.code, 0) + q.quantity
    return {
        "company": company.pk, "groups": Group.objects.filter(tree_id=company.tree_id).count(),
        "password": PASSWORD, "dealers": dealers,
        "contention": {"pool": contention.pk, "children": children, "room": room,
                       "feature": "virtual_numbers", "ask": CONTENTION_ASK},
    }


def load_data_state() -> str:
    """"complete", "partial" (a build that did not finish) or "missing"."""
    from groups.models import Group

    company = Group.objects.filter(parent__isnull=True, name=COMPANY).first()
    if company is None:
        return "missing"
    # The Contention pool's last sub-group is the build's last group.
    done = Group.objects.filter(tree_id=company.tree_id, name=f"{CONTENTION} {CONTENTION_USERS}").exists()
    return "complete" if done else "partial"


def main(argv=None) -> int:
    args = parse_args(argv)
    name = _database_name(args.db_url)
    if args.check:
        if not database_exists(args.db_url):
            print(f"no database {name}")
            return 1
        setup_django(args.db_url)
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        state = load_data_state()
        if executor.migration_plan(executor.loader.graph.leaf_nodes()) or state != "complete":
            print(f"database {name}: load data {state}, or unapplied migrations")
            return 1
        print(f"database {name} has the load data")
        return 0

    started = time.perf_counter()
    note = prepare_database(args.db_url, fresh=args.fresh)
    print(f"Load database {name}: {note}", flush=True)
    setup_django(args.db_url)
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)
    print(f"  migrated in {time.perf_counter() - started:.1f} s", flush=True)
    state = load_data_state()
    if state == "complete":
        print("  the load data is already there: kept (use --fresh to build it anew)", flush=True)
    elif state == "partial":
        raise SystemExit("  the load data is incomplete (an interrupted build): run again with --fresh")
    else:
        build(dealers=args.dealers, residents=args.residents)
    data = manifest(dealers_expected=args.dealers)
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST.write_text(json.dumps(data, indent=1))
    took = time.perf_counter() - started
    print(f"Load data ready in {took:.1f} s ({took / 60:.1f} min): {data['groups']:,} groups, "
          f"{len(data['dealers'])} dealer logins dealer-01@load.example … (password {PASSWORD}); "
          f"manifest {MANIFEST}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
