"""`python -m bench [--groups N]`: see bench/__init__.py."""

import argparse
import os
import sys
from pathlib import Path

MIN_GROUPS = 251  # 249 and 250 leave a remainder of 1 or 2 groups that no top-up building makes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Scale benchmark: builds one big company and prints timings and query counts. "
                    "Uses a fresh SQLite file var/bench.sqlite3 unless DATABASE_URL is set.")
    parser.add_argument("--groups", type=int, default=100_000,
                        help="groups in the company (default 100000)")
    parser.add_argument("--children", type=int, default=None,
                        help="restricted child groups carved from the dealer pool (default: groups / 10)")
    parser.add_argument("--residents", type=int, default=None,
                        help="residents with grants served by the dealer pool (default: groups)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs per measurement; the median is printed (default 3)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds one run of a measurement may take before its query is interrupted "
                             "and it is reported as over budget; 0 = no limit (default 60)")
    parser.add_argument("--fresh", action="store_true",
                        help="with a PostgreSQL DATABASE_URL: drop and recreate that database first")
    parser.add_argument("--sqlite", type=Path, default=None, metavar="PATH",
                        help="without DATABASE_URL: the SQLite file to (re)create (default var/bench.sqlite3); "
                             "another path lets a run go beside one that is still writing the default file")
    parser.add_argument("--skip-report", action="store_true",
                        help="skip the usage report against the hand-written SQL floor")
    parser.add_argument("--grow", type=int, default=10,
                        help="at the end, grow the dealer pool to this many times its carved blocks and residents "
                             "and time it again (default 10)")
    parser.add_argument("--skip-grow", action="store_true", help="skip the grown pool")
    parser.add_argument("--skip-sweeps", action="store_true",
                        help="skip the expiry and reminder sweeps")
    parser.add_argument("--blocks", type=int, default=1_000_000,
                        help="license blocks for the sweeps, a multiple of 100 (default 1000000); "
                             "1%% and then 10%% of them are due, then a tenth of them with the same number due")
    parser.add_argument("--sweep-groups", type=int, default=4000,
                        help="restricted groups holding the sweeps' blocks, each with its administrator "
                             "(default 4000)")
    parser.add_argument("--sweep-residents", type=int, default=1,
                        help="residents with a grant of one virtual number in each sweep pool's apartment, served "
                             "by a device's Basic block there (default 1); 0 for none")
    parser.add_argument("--sweep-budget", type=float, default=50.0,
                        help="seconds a timed run of a sweep may take before it is stopped and reported as over "
                             "budget, with an estimate at the rate reached; its tracemalloc run gets half as much; "
                             "0 = no limit (default 50: the section then takes about 10 minutes)")
    args = parser.parse_args(argv)
    if args.grow < 2:
        parser.error("--grow must be 2 or more")
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    if args.budget < 0 or args.sweep_budget < 0:
        parser.error("--budget and --sweep-budget must be 0 or more")
    if args.groups < MIN_GROUPS:
        parser.error(f"--groups must be at least {MIN_GROUPS}: one building of 245 groups and the groups above it")
    if args.children is not None and args.children < 1:
        parser.error("--children must be 1 or more")
    if args.residents is not None and args.residents < 0:
        parser.error("--residents must be 0 or more")
    if args.blocks < 10_000 or args.blocks % 100:
        parser.error("--blocks must be a multiple of 100, at least 10000")
    if args.sweep_residents < 0:
        parser.error("--sweep-residents must be 0 or more")
    if not 1 <= args.sweep_groups <= args.blocks // 10:
        parser.error("--sweep-groups must be from 1 to a tenth of --blocks")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from .database import prepare

    # DATABASE_URL must be final before Django reads its settings.
    choice = prepare(fresh=args.fresh, sqlite_path=args.sqlite)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    # Time what production runs: without DEBUG's per-query bookkeeping (unless asked for).
    os.environ.setdefault("DJANGO_DEBUG", "false")
    import django

    django.setup()
    from .run import run

    run(args, choice)


if __name__ == "__main__":
    sys.exit(main())
