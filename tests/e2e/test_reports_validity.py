"""The license validity report (/licenses/reports/validity/) in the browser: blocks with their
state, the date, state, kind and name filters, the CSV download, and scope.

On top of `license_landscape` (tests/e2e/reports_support.py), Company B gets a Plus block that
ended yesterday and one that starts in 60 days, so every state is on the page.
"""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Role
from licenses.models import LicenseBlock
from tests.e2e.licenses_support import iso
from tests.e2e.reports_support import download_csv, license_landscape, table_rows
from tests.licenses.helpers import block, give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COLUMNS = ["Group", "Kind", "Valid from", "Valid until", "State", "Last notified at"]


def shown(page) -> list[list[str]]:
    return table_rows(page, "validity-table")


def as_shown(csv_rows) -> list[list[str]]:
    """The CSV rows in the shape of the table's rows (without the last notification)."""
    return [[r["group"], r["kind"].capitalize(), r["valid_from"], r["valid_until"] or "—", r["state"]]
            for r in csv_rows]


def without_notified(rows) -> list[list[str]]:
    return [r[:5] for r in rows]


def open_report(page, live_server):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Validity").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/reports/validity/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("License validity")


def filter_by(page, **choices):
    """Set the filters (label -> option label, or a day for "Day"/"Group name") and submit."""
    form = page.get_by_role("form", name="Filters")
    for label, value in choices.items():
        field = form.get_by_label(label.replace("_", " "), exact=True)
        if label in ("Day", "Group_name"):
            field.fill(value)
        else:
            field.select_option(label=value)
    with page.expect_navigation():
        form.get_by_role("button", name="Filter").click()


def test_blocks_show_their_state_and_the_filters_narrow_the_table_and_the_csv(tree, person, operator,
                                                                              browser_login, live_server):
    land = license_landscape(tree, operator, person)
    today = land.today
    company_b = tree["Company B"]
    give(company_b, block(5, start=today - timedelta(days=60), until=today - timedelta(days=1), key="old"),
         actor=operator, on=today - timedelta(days=60))
    give(company_b, block(5, start=today + timedelta(days=60), key="new"), actor=operator, on=today)
    notified = timezone.make_aware(datetime.combine(today, datetime.min.time()).replace(hour=9, minute=30))
    LicenseBlock.objects.filter(pk=land.dealer_a1_block.pk).update(last_notified_at=notified)

    page = browser_login(operator)
    open_report(page, live_server)
    table = page.get_by_role("table", name="License blocks")
    expect(table.get_by_role("columnheader")).to_have_text(COLUMNS)
    expect(page.get_by_text("8 blocks")).to_be_visible()
    trial_end = iso(today + timedelta(days=29))
    t = iso(today)
    expired = ["Company B", "Plus", iso(today - timedelta(days=60)), iso(today - timedelta(days=1)), "expired"]
    scheduled = ["Company B", "Plus", iso(today + timedelta(days=60)), "—", "scheduled"]
    site_a1 = ["Site A1", "Plus", t, iso(land.site_a1_until), "ending"]
    dealer_a2 = ["Dealer A2", "Plus", t, iso(today + timedelta(days=20)), "ending"]
    trials = [["Company A", "Trial", t, trial_end, "ending"], ["Company B", "Trial", t, trial_end, "ending"]]
    dealer_a1 = ["Dealer A1", "Plus", t, iso(land.dealer_a1_until), "active"]
    company_a_plus = ["Company A", "Plus", t, "—", "active"]
    everything = [expired, site_a1, dealer_a2, *trials, dealer_a1]  # by end date; those with no end aside
    rows = shown(page)
    assert sorted(without_notified(rows)) == sorted([*everything, company_a_plus, scheduled])
    assert without_notified([r for r in rows if r[3] != "—"]) == everything
    # The state is a badge; the last reminder is shown when there was one.
    expect(table.locator(".badge", has_text="expired")).to_have_count(1)
    expect(table.locator(".badge", has_text="ending")).to_have_count(4)
    expect(table.locator(".badge", has_text="active")).to_have_count(2)
    expect(table.locator(".badge", has_text="scheduled")).to_have_count(1)
    assert [r[5] for r in rows if r[0] == "Dealer A1"] == [timezone.localtime(notified).strftime("%Y-%m-%d %H:%M")]
    assert {r[5] for r in rows if r[0] != "Dealer A1"} == {"—"}

    # By state.
    filter_by(page, State="Expired")
    expect(page.get_by_text("1 block", exact=True)).to_be_visible()
    assert without_notified(shown(page)) == [expired]
    filter_by(page, State="Ending")
    assert without_notified(shown(page)) == [site_a1, dealer_a2, *trials]
    assert as_shown(download_csv(page)) == [site_a1, dealer_a2, *trials]

    # By date: valid until before today; valid from after today; valid until equal to a day.
    filter_by(page, State="Any", Date="Valid until", Is="before", Day=t)
    assert without_notified(shown(page)) == [expired]
    filter_by(page, Date="Valid from", Is="after", Day=t)
    assert without_notified(shown(page)) == [scheduled]
    assert as_shown(download_csv(page)) == [scheduled]
    filter_by(page, Date="Valid until", Is="equal to", Day=trial_end)
    assert without_notified(shown(page)) == trials

    # By kind and by a part of the group's name.
    filter_by(page, Is="Any", Day="", Kind="Trial")
    assert without_notified(shown(page)) == trials
    filter_by(page, Kind="Any", Group_name="dealer")
    assert without_notified(shown(page)) == [dealer_a2, dealer_a1]
    csv_rows = download_csv(page)
    assert as_shown(csv_rows) == [dealer_a2, dealer_a1]
    assert [r["last_notified_at"] != "" for r in csv_rows] == [False, True]

    # A comparison without its day: said at the day, and no block is listed.
    filter_by(page, Group_name="", Is="before")
    day = page.get_by_label("Day", exact=True)
    expect(page.get_by_text("Enter the day to compare with.")).to_be_visible()
    expect(day).to_have_accessible_description("Enter the day to compare with.")
    expect(page.get_by_text("0 blocks")).to_be_visible()
    expect(table).to_contain_text("No block matches.")
    assert download_csv(page) == []


def test_dealer_sees_only_the_blocks_of_its_scope_in_the_page_and_the_csv(tree, person, operator, browser_login,
                                                                           live_server):
    land = license_landscape(tree, operator, person)
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer-a1@test.example")
    page = browser_login(dealer)
    open_report(page, live_server)
    t = iso(land.today)
    mine = [["Site A1", "Plus", t, iso(land.site_a1_until), "ending"],
            ["Dealer A1", "Plus", t, iso(land.dealer_a1_until), "active"]]
    expect(page.get_by_text("2 blocks")).to_be_visible()
    assert without_notified(shown(page)) == mine
    assert as_shown(download_csv(page)) == mine

    # Looking for another dealer's blocks by name finds nothing, in the page or the file.
    filter_by(page, Group_name="A2")
    expect(page.get_by_role("table", name="License blocks")).to_contain_text("No block matches.")
    assert download_csv(page) == []
    filter_by(page, Group_name="", Kind="Trial")
    expect(page.get_by_text("0 blocks")).to_be_visible()
    assert download_csv(page) == []
