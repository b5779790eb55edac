"""Backup drill: the README's pg_dump, restored into a fresh database; there check_integrity
passes and the usage report is the same, line for line, as on the original."""

import os
import subprocess
import sys
from datetime import date

import pytest
from django.db import connection

from groups.models import Role
from licenses import services
from tests.licenses.helpers import block, company_pool, give

pytestmark = [pytest.mark.postgres, pytest.mark.drill, pytest.mark.django_db(transaction=True)]
DAY = date(2027, 3, 17)


def _url(name: str) -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name}"


def _manage(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": url}
    return subprocess.run([sys.executable, "manage.py", *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_dump_restores_into_a_fresh_database_with_the_same_reports(tree, operator, person, tmp_path):
    company_pool(tree, actor=operator, start=date(2027, 1, 1))
    give(tree["Dealer A1"], block(10, 10, start=date(2027, 1, 1), until=date(2027, 3, 31)), actor=operator,
         on=date(2027, 1, 1), reminder_enabled=True, reminder_days=14)
    flat = tree.apartment("Site A1")
    services.grant_set(group=flat, user=person(Role.RESIDENT, flat), quantities={"virtual_numbers": 3},
                       actor=operator, on=date(2027, 1, 1))
    source = connection.settings_dict["NAME"]
    restored = f"{source}_restore_{os.getpid()}"
    dump = tmp_path / "licensetree.dump"
    db = connection.settings_dict
    pg = ["-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"]]

    # The README's backup and restore, as an operator types them.
    subprocess.run(["pg_dump", *pg, "--format=custom", f"--file={dump}", source], check=True, timeout=120)
    subprocess.run(["dropdb", *pg, "--if-exists", restored], check=True)
    subprocess.run(["createdb", *pg, restored], check=True)
    try:
        subprocess.run(["pg_restore", *pg, "--no-owner", f"--dbname={restored}", str(dump)], check=True, timeout=120)

        check = _manage(_url(restored), "check_integrity", "--today", DAY.isoformat())
        assert check.returncode == 0 and "OK: trees and pools are consistent" in check.stdout, check.stderr
        reports = [_manage(_url(name), "license_report", "--today", DAY.isoformat(), "--format", "csv")
                   for name in (source, restored)]
        assert all(r.returncode == 0 for r in reports), [r.stderr for r in reports]
        original, copy = (r.stdout.splitlines() for r in reports)
        assert len(original) > 5 and original == copy
        assert any(",Dealer A1," in line or "Dealer A1" in line for line in original)
    finally:
        connection.close()
        subprocess.run(["dropdb", *pg, "--if-exists", restored], check=False)
