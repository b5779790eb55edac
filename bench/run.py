"""The benchmark's steps, in order. Imported only after django.setup()."""

import argparse
import resource
import sqlite3
import time

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from groups.models import Group

from . import pool, sweeps, tree, usage
from .database import DatabaseChoice
from .measure import Report, ms


def _database_line(choice: DatabaseChoice) -> str:
    if connection.vendor == "postgresql":
        major, rest = divmod(connection.pg_version, 10000)
        version = f"PostgreSQL server {major}.{rest}"
    elif connection.vendor == "sqlite":
        version = f"SQLite {sqlite3.sqlite_version}"
    else:
        version = connection.vendor
    return f"{choice.description}; {version}"


def _section(title: str) -> None:
    print(f"\n== {title}", flush=True)


def run(args: argparse.Namespace, choice: DatabaseChoice) -> None:
    report = Report()
    began = time.perf_counter()
    children = args.children if args.children is not None else max(1, args.groups // 10)
    residents = args.residents if args.residents is not None else args.groups
    print(f"Database: {_database_line(choice)}")
    print(f"Settings: {settings.SETTINGS_MODULE} (DEBUG={settings.DEBUG}); "
          f"{args.groups:,} groups, {children:,} restricted children, {residents:,} residents, "
          f"{args.repeat} timed runs per measurement, budget {ms(args.budget) if args.budget else 'none'} a run")
    print("Query counts come from one extra run under CaptureQueriesContext; timings from the runs without it.",
          flush=True)

    _section("migrate")
    start = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    report.add("setup", "migrate", time.perf_counter() - start)
    existing = Group.objects.count()
    if existing:
        print(f"  note: the database already holds {existing:,} groups (reused database; --fresh starts clean)")
    tag = f"{int(time.time()):x}"

    _section("company, dealer and their pools (through the services, on a still small tree)")
    bench = tree.start_company(tag=tag)
    pool.open_pools(bench, report=report)

    _section(f"build a company of {args.groups:,} groups")
    tree.build_company(bench, total_groups=args.groups, report=report)

    _section("leaf insert into the big tree")
    tree.time_leaf_inserts(bench, repeat=args.repeat, budget=args.budget, report=report)

    _section(f"licenses setup: a dealer pool with {children:,} carved children and {residents:,} residents")
    setup = pool.setup_pool(bench, children=children, residents=residents, tag=tag, report=report)
    print(f"  {pool.describe(setup)}", flush=True)

    _section("pages, as the company administrator")
    client = tree.page_client(bench.admin)
    first_site = bench.sites[0]
    child = Group.objects.get(pk=setup.child_ids[0])
    tree.time_pages(client, [
        ("tree", "/groups/", ""),
        ("company", f"/groups/{bench.company.pk}/", f"{bench.company.get_children().count()} child"),
        ("site", f"/groups/{first_site.pk}/", f"{first_site.get_children().count()} children, 50 a page"),
        ("apartment with residents", f"/groups/{setup.resident_apartment.pk}/",
         f"{setup.resident_apartment.memberships.count()} residents"),
    ], repeat=args.repeat, budget=args.budget, report=report)
    print("  further pages:", flush=True)
    tree.time_pages(client, [
        ("next level, lazy", f"/groups/{first_site.pk}/children/?page=2", ""),
        ("search", "/groups/?q=Building+17", ""),
        ("child pool licenses", f"/licenses/groups/{child.pk}/", ""),
    ], repeat=args.repeat, budget=args.budget, report=report, section="pages+")

    _section(f"look-ups up the tree, from its last apartment (in tree order) of {args.groups:,} groups")
    tree.time_lookups(bench, setup.pool, repeat=args.repeat, budget=args.budget, report=report)

    _section("the pool check: a save, the status, a grant and the Licenses page of the dealer's pool")
    one = pool.time_pool_check(bench, setup, repeat=args.repeat, budget=args.budget, report=report, client=client)

    if not args.skip_report:
        _section(f"the usage report of the company of {args.groups:,} groups, against one hand-written SQL query")
        usage.time_usage_report(bench.company, client, on=setup.today, repeat=args.repeat, budget=args.budget,
                                report=report)

    if not args.skip_sweeps:
        # After the report: the sweeps' company would add its pools to the report page's reads.
        _section(f"expiry and reminder sweeps over {args.blocks:,} blocks in {args.sweep_groups:,} groups")
        sweeps.time_sweeps(bench.operator, blocks=args.blocks, groups=args.sweep_groups,
                           residents=args.sweep_residents, tag=tag,
                           budget=args.sweep_budget, repeat=args.repeat, report=report)

    if not args.skip_report and not args.skip_sweeps:
        # The page shows the same rows; only another company has been added to the database.
        _section("the usage report page again, now that the sweeps' company is in the database too")
        again = tree.time_pages(client, [("usage report, another company beside", "/licenses/reports/usage/",
                                          f"same rows; the sweeps' company of {args.sweep_groups:,} pools exists too")],
                                repeat=args.repeat, budget=args.budget, report=report, section="report")
        report.time_target("usage report: first page, with another company in the database", again[0], 0.3)

    if not args.skip_grow:
        # Last: the other sections keep the sizes of the earlier runs they are compared with.
        _section(f"the same pool with {args.grow}x the carved blocks and residents")
        grown = pool.grow(setup, factor=args.grow, tag=tag, report=report)
        print(f"  {grown}", flush=True)
        big = pool.time_pool_check(bench, setup, repeat=args.repeat, budget=args.budget, report=report,
                                   client=client, label=f"{args.grow}x")
    else:
        big = {}
    for key, what in (("save", "a save (one more carved block)"), ("grant", "a new resident's grant"),
                      ("status", "the pool's status"), ("page", "the dealer's Licenses page")):
        report.time_target(f"{what} at the default size", one.get(key), 0.1)
        if big:
            report.ratio_target(f"{what}: {args.grow}x / 1x", one.get(key), big.get(key), most=1.5)

    total = time.perf_counter() - began
    _section("summary")
    report.print_table()
    _section("targets (issue 11)")
    report.print_targets()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"\nDatabase: {_database_line(choice)}")
    if choice.sqlite_path is not None and choice.sqlite_path.exists():
        print(f"Database file: {choice.sqlite_path.stat().st_size / 2**20:,.0f} MiB")
    print(f"Whole run: {ms(total)}")
    print(f"Peak memory (ru_maxrss): {peak:,} KiB ({peak / 1024:,.0f} MiB)")
