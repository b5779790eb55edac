import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from groups.models import Group
from tests.licenses.helpers import block, company_pool, give

START = date(2027, 1, 1)


@pytest.fixture
def pool(tree, operator, person):
    company_pool(tree, actor=operator, start=START)
    person("site_admin", tree["Dealer A1"], email="a1@test.example")
    give(tree["Dealer A1"], block(10, 10, start=START, until=date(2027, 3, 31)), actor=operator, on=START,
         reminder_enabled=True, reminder_days=14, recurrence="weekly")
    return tree


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_send_license_reminders_text_json_and_dry_run(pool, mailoutbox):
    line = run("send_license_reminders", "--today", "2027-03-17", "--dry-run")
    assert line.startswith("would send block=") and "recipient=a1@test.example kind=expiring day=2027-03-17" in line
    assert mailoutbox == []
    rows = json.loads(run("send_license_reminders", "--today", "2027-03-17", "--format", "json"))
    assert [(r["status"], r["recipient"]) for r in rows] == [("sent", "a1@test.example")]
    assert json.loads(run("send_license_reminders", "--today", "2027-03-17", "--format", "json")) == []


def test_expire_licenses_prints_one_line_per_action(pool):
    out = run("expire_licenses", "--today", "2027-04-01")
    assert "expired block=" in out and f"group={pool['Dealer A1'].pk}" in out
    assert run("expire_licenses", "--today", "2027-04-01") == ""


@pytest.mark.parametrize("command", ["expire_licenses", "send_license_reminders", "license_report", "check_integrity"])
def test_bad_dates_are_clean_errors(db, command):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command(command, "--today", "31/12/2027")


def test_license_report_csv_json_and_scope(pool):
    csv_out = run("license_report", "--group", str(pool["Dealer A1"].pk), "--today", "2027-01-05")
    lines = csv_out.strip().splitlines()
    assert lines[0] == "group_id,group,kind,feature,feature_name,limit,held,used,available"
    assert any(line.startswith(f"{pool['Dealer A1'].pk},Dealer A1,dealer,virtual_numbers,Virtual numbers,10,0,0,10")
               for line in lines)
    assert "Company A" not in csv_out
    rows = json.loads(run("license_report", "--format", "json", "--today", "2027-01-05"))
    company = [r for r in rows if r["group"] == "Company A" and r["feature"] == "virtual_numbers"][0]
    assert (company["limit"], company["held"], company["available"]) == (100, 10, 90)
    with pytest.raises(CommandError):
        call_command("license_report", "--group", "999999")


def test_check_integrity_passes_then_finds_a_broken_tree(pool):
    assert "OK" in run("check_integrity", "--today", "2027-01-05")
    Group.objects.filter(pk=pool["Site A1"].pk).update(rght=1)  # what an unlocked raw write could leave
    with pytest.raises(CommandError, match="problem"):
        call_command("check_integrity", "--today", "2027-01-05", stdout=StringIO())


def test_check_integrity_finds_an_overdrawn_pool(pool):
    from licenses.models import BlockFeature

    BlockFeature.objects.filter(block__group=pool["Dealer A1"], feature__code="virtual_numbers").update(quantity=500)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_integrity", "--today", "2027-01-05", stdout=out)
    assert "sub-groups hold 500 virtual_numbers" in out.getvalue()


def test_generate_groups_command(pool):
    site = pool["Site A2"]
    out = run("generate_groups", "--parent", str(site.pk), "--buildings", "2", "--floors", "2",
              "--apartments-per-floor", "2", "--building-start", "5")
    assert "generated 14 groups" in out
    with pytest.raises(CommandError):
        call_command("generate_groups", "--parent", str(site.pk), "--buildings", "0", "--floors", "1",
                     "--apartments-per-floor", "1")


def test_seed_demo_is_idempotent(db):
    first = run("seed_demo")
    count = Group.objects.count()
    second = run("seed_demo")
    assert "Demo data loaded." in first and "already present" in second
    assert Group.objects.count() == count >= 200
    assert "operator@example.com" in second
