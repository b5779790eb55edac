"""`python -m bench [--groups N]`: see bench/__init__.py."""

import argparse
import os
import sys

MIN_GROUPS = 250


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
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    if args.budget < 0:
        parser.error("--budget must be 0 or more")
    if args.groups < MIN_GROUPS:
        parser.error(f"--groups must be at least {MIN_GROUPS}: one building of 245 groups and the groups above it")
    if args.children is not None and args.children < 1:
        parser.error("--children must be 1 or more")
    if args.residents is not None and args.residents < 0:
        parser.error("--residents must be 0 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from .database import prepare

    # DATABASE_URL must be final before Django reads its settings.
    choice = prepare(fresh=args.fresh)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    # Time what production runs: without DEBUG's per-query bookkeeping (unless asked for).
    os.environ.setdefault("DJANGO_DEBUG", "false")
    import django

    django.setup()
    from .run import run

    run(args, choice)


if __name__ == "__main__":
    sys.exit(main())
