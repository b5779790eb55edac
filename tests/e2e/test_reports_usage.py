"""The license usage report (/licenses/reports/usage/) in the browser: filters, the table and
its totals, pagination, the CSV download, and scope.

The data is `license_landscape` (tests/e2e/reports_support.py): Dealer A1 has 20 virtual
numbers and 10 apps until today + 40, Site A1 holds 18 of the virtual numbers until today + 10
and Rita uses 2 of them; Dealer A2 and Company B belong to other people.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from groups import services as group_services
from groups.models import Role
from tests.e2e.licenses_support import give_company_pool, iso
from tests.e2e.reports_support import download_csv, license_landscape, restrict_empty, table_rows

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

COLUMNS = ["Pool", "Kind", "Feature", "Limit", "Held by sub-groups", "Used by residents", "Available"]

DEALER_ROWS = [
    ["Dealer A1", "dealer", "Virtual numbers", "20", "18", "0", "2"],
    ["Dealer A1", "dealer", "Mobile app installs", "10", "0", "0", "10"],
    ["Dealer A1", "dealer", "UKEY2 keys", "0", "0", "0", "0"],
    ["Site A1", "site", "Virtual numbers", "18", "0", "2", "16"],
    ["Site A1", "site", "Mobile app installs", "0", "0", "0", "0"],
    ["Site A1", "site", "UKEY2 keys", "0", "0", "0", "0"],
]

SUBTREE_HELP = "Type a group's name and pick it: only its pools and those below it."  # then the error


def shown(page) -> list[list[str]]:
    return table_rows(page, "usage-table")


def as_shown(csv_rows) -> list[list[str]]:
    """The CSV rows in the shape of the table's rows."""
    return [[r["group"], r["kind"], r["feature_name"], r["limit"], r["held"], r["used"], r["available"]]
            for r in csv_rows]


def open_report(page, live_server):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Usage").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/reports/usage/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("License usage per group")


def filter_by(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()


@pytest.fixture
def dealer_page(tree, person, operator, browser_login):
    land = license_landscape(tree, operator, person)
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer-a1@test.example", name="Dora Dealer")
    return browser_login(dealer), land


def test_dealer_sees_the_pools_of_its_scope_with_totals_and_the_same_rows_in_the_csv(dealer_page, tree,
                                                                                      live_server):
    page, land = dealer_page
    open_report(page, live_server)
    table = page.get_by_role("table", name="License usage per group")
    expect(table.get_by_role("columnheader")).to_have_text(COLUMNS)
    expect(page.get_by_text("2 pools · 6 rows")).to_be_visible()
    assert shown(page) == DEALER_ROWS
    assert table_rows(page, "usage-table", section="tfoot") == [
        ["Total · Virtual numbers", "38", "18", "2", "18"],
        ["Total · Mobile app installs", "10", "0", "0", "10"],
        ["Total · UKEY2 keys", "0", "0", "0", "0"],
    ]
    expect(table).not_to_contain_text("Dealer A2")
    expect(table).not_to_contain_text("Company")

    rows = download_csv(page)
    assert as_shown(rows) == DEALER_ROWS
    assert {r["group_id"] for r in rows} == {str(tree["Dealer A1"].pk), str(tree["Site A1"].pk)}

    # A pool links to its Licenses page.
    table.get_by_role("link", name="Site A1").first.click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{tree['Site A1'].pk}/")


def test_dealer_filters_the_report_and_the_csv_follows(dealer_page, tree, live_server):
    page, land = dealer_page
    open_report(page, live_server)

    # Pools with any use, virtual numbers only.
    page.get_by_label("Show").select_option(label="Pools with any use")
    page.get_by_label("Feature").select_option(label="Virtual numbers")
    filter_by(page)
    expect(page.get_by_text("2 pools", exact=True)).to_be_visible()
    assert shown(page) == [DEALER_ROWS[0], DEALER_ROWS[3]]
    assert table_rows(page, "usage-table", section="tfoot") == [["Total · Virtual numbers", "38", "18", "2", "18"]]
    expect(page.get_by_label("Feature")).to_have_value("virtual_numbers")
    assert as_shown(download_csv(page)) == [DEALER_ROWS[0], DEALER_ROWS[3]]

    # Sites only, on a day after Site A1's block ended: its pool is empty, Rita still uses 2.
    page.get_by_label("Show").select_option(label="All pools")
    page.get_by_label("Feature").select_option(label="All counted features")
    page.get_by_label("Group kind").select_option(label="Site")
    later = land.site_a1_until + timedelta(days=5)
    page.get_by_label("Day").fill(iso(later))
    filter_by(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(iso(later))
    site_rows = [
        ["Site A1", "site", "Virtual numbers", "0", "0", "2", "-2"],
        ["Site A1", "site", "Mobile app installs", "0", "0", "0", "0"],
        ["Site A1", "site", "UKEY2 keys", "0", "0", "0", "0"],
    ]
    assert shown(page) == site_rows
    assert as_shown(download_csv(page)) == site_rows

    # The administrator filter: pools inside what the named person administers.
    page.get_by_label("Group kind").select_option(label="Any")
    page.get_by_label("Day").fill("")
    page.get_by_label("Administrator (email)").fill("dealer-a1@")
    filter_by(page)
    assert shown(page) == DEALER_ROWS
    page.get_by_label("Administrator (email)").fill("nobody@test.example")
    filter_by(page)
    expect(page.locator("#usage-count")).to_have_text(re.compile(r"^0 pools"))
    expect(page.get_by_role("table", name="License usage per group")).to_contain_text("No pool matches.")
    assert download_csv(page) == []


def test_subtree_is_picked_from_the_groups_in_scope_and_one_outside_is_refused(dealer_page, tree, live_server):
    page, land = dealer_page
    open_report(page, live_server)
    site_a1, site_a2 = tree["Site A1"], tree["Site A2"]
    subtree = page.get_by_label("Subtree")

    # Typing fills the list of suggestions, from the dealer's scope only.
    subtree.press_sequentially("Site")
    options = page.locator("#subtree-options option")
    expect(options).to_have_count(1)
    expect(options).to_have_attribute("value", f"Site A1 #{site_a1.pk}")
    subtree.fill(options.first.get_attribute("value"))  # picked from the list
    filter_by(page)
    expect(subtree).to_have_value(f"Site A1 #{site_a1.pk}")
    expect(page.get_by_text("1 pool · 3 rows · subtree: Site A1")).to_be_visible()
    assert shown(page) == DEALER_ROWS[3:]
    assert as_shown(download_csv(page)) == DEALER_ROWS[3:]

    # A name not picked from the list.
    subtree.fill("Site A1")
    filter_by(page)
    expect(subtree).to_have_accessible_description(f"{SUBTREE_HELP} Pick a group from the list.")

    # Another dealer's site, typed by hand: refused at the field, nothing of it shown or downloaded.
    subtree.fill(f"Site A2 #{site_a2.pk}")
    filter_by(page)
    expect(subtree).to_have_accessible_description(f"{SUBTREE_HELP} That group is not in your scope.")
    expect(subtree).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("That group is not in your scope.")).to_be_visible()
    expect(page.locator("#usage-count")).to_have_text(re.compile(r"^0 pools"))
    expect(page.get_by_role("table", name="License usage per group")).to_contain_text("No pool matches.")
    assert download_csv(page) == []
    expect(page.get_by_role("main")).not_to_contain_text("Dealer A2")


def test_fifty_rows_per_page_and_the_csv_holds_every_filtered_row(tree, person, operator, browser_login, live_server):
    """Company A's subtree gets 25 pools (75 rows); Company B is left out by the administrator filter."""
    license_landscape(tree, operator, person)
    site_a2 = tree["Site A2"]
    group_services.groups_generate(
        parent=site_a2, plan=group_services.GenerationPlan(buildings=1, units=0, floors=2, apartments_per_floor=5),
        actor=operator)
    for group in [site_a2, *tree["Site A2"].get_descendants()]:
        restrict_empty(group, operator)  # 21 empty pools
    person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example")
    page = browser_login(operator)
    open_report(page, live_server)
    expect(page.get_by_text("26 pools · 78 rows")).to_be_visible()  # 3 counted features each

    page.get_by_label("Administrator (email)").fill("ca@test.example")
    filter_by(page)
    expect(page.get_by_text("25 pools · 75 rows")).to_be_visible()
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager).to_contain_text("Page 1 of 2")
    first = shown(page)
    assert len(first) == 48  # 16 pools a page, 3 rows each
    assert table_rows(page, "usage-table", section="tfoot")[0] == ["Total · Virtual numbers", "178", "68", "2", "108"]

    pager.get_by_role("link", name="Next").click()
    expect(pager).to_contain_text("Page 2 of 2")
    expect(page.get_by_label("Administrator (email)")).to_have_value("ca@test.example")
    second = shown(page)
    assert len(second) == 27  # the other 9 pools
    assert not {r[0] for r in first + second} & {"Company B", "Site B"}

    rows = download_csv(page)
    assert len(rows) == 75
    assert as_shown(rows) == first + second
    pager.get_by_role("link", name="Previous").click()
    expect(pager).to_contain_text("Page 1 of 2")
    assert shown(page) == first


def test_feature_column_names_the_feature_as_the_rest_of_the_site_does(tree, operator, browser_login, live_server):
    give_company_pool(tree, operator, until=None)
    page = browser_login(operator)
    open_report(page, live_server)
    cells = page.locator("#usage-table tbody tr td:nth-child(3)")
    expect(cells.first).to_have_text(re.compile("^(Virtual numbers|Mobile app installs|UKEY2 keys)$"), timeout=1000)
