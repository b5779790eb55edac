"""The dashboard, the landing page after login, as a dealer and as a company administrator see it.

The data is `license_landscape` (tests/e2e/reports_support.py): Dealer A1 has 20 virtual
numbers and 10 apps until today + 40, Site A1 holds 18 of the virtual numbers until today + 10
and Rita uses 2 of them; Dealer A2 (30 virtual numbers, 5 apps, until today + 20) and
Company B belong to other people.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Role
from notifications.models import Notification
from tests.e2e.licenses_support import give_company_pool, iso, restrict_with_block
from tests.e2e.reports_support import license_landscape, table_rows

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def section(page, heading: str):
    return page.get_by_role("region", name=heading)


def bar(page, feature_code: str):
    """The coloured part of a feature's capacity bar."""
    return page.locator(f"[data-feature={feature_code}] svg rect").nth(1)


def test_dealer_dashboard_shows_its_own_capacity_expiries_and_pools_only(tree, person, operator, browser_login,
                                                                          live_server):
    land = license_landscape(tree, operator, person)
    today = land.today
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer-a1@test.example", name="Dora Dealer")
    company_admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", name="Carla Admin")
    Notification.objects.create(user=dealer, group=tree["Dealer A1"], kind="expiring",
                                title="Licenses of Dealer A1 end in 40 days")
    Notification.objects.create(user=dealer, kind="expiring", title="Already read", read_at=timezone.now())
    Notification.objects.create(user=company_admin, kind="expiring", title="For the company administrator")

    page = browser_login(dealer)
    expect(page).to_have_url(f"{live_server.url}/licenses/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dashboard {iso(today)}")

    # Capacity against use: Dealer A1's own pool, the highest in the dealer's scope.
    capacity = section(page, "Capacity and use")
    expect(capacity.get_by_role("table", name="Capacity against use in your scope, today")).to_be_visible()
    assert table_rows(page, "capacity-table") == [
        ["Virtual numbers", "20", "18", "90"],
        ["Mobile app installs", "10", "0", "0"],
        ["UKEY2 keys", "0", "0", "0"],
    ]
    expect(capacity.locator("[data-feature=virtual_numbers] span")).to_have_text(["Virtual numbers", "18 / 20"])
    expect(capacity.locator("[data-feature=mobile_apps] span")).to_have_text(["Mobile app installs", "0 / 10"])
    # The bars: 90% drawn red (at the threshold), 0% drawn empty.
    expect(bar(page, "virtual_numbers")).to_have_attribute("width", "90")
    expect(bar(page, "virtual_numbers")).to_have_attribute("fill", "#dc3545")
    expect(bar(page, "mobile_apps")).to_have_attribute("width", "0")

    # Expiries in the next 90 days: Site A1's block (today + 10) and Dealer A1's (today + 40).
    expiries = section(page, "Expiries in the next 90 days")
    expect(expiries.get_by_role("table", name="License blocks ending, per week")).to_be_visible()
    assert table_rows(page, "expiry-table") == [
        [iso(today + timedelta(days=7)), "1"],
        [iso(today + timedelta(days=35)), "1"],
    ]
    expect(expiries.get_by_role("listitem")).to_have_text([
        f"Site A1: Plus until {iso(land.site_a1_until)}",
        f"Dealer A1: Plus until {iso(land.dealer_a1_until)}",
    ])
    chart = expiries.locator("svg rect")
    expect(chart).to_have_count(13)  # one bar per week
    expect(chart.filter(has=page.locator("title", has_text=f"{iso(today + timedelta(days=7))}: 1"))).to_have_attribute(
        "height", "58")
    expect(chart.filter(has=page.locator("title", has_text=f"{iso(today)}: 0"))).to_have_attribute("height", "0")
    expiries.get_by_role("link", name="Site A1").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{tree['Site A1'].pk}/")
    page.go_back()

    # Pools at or above 90% use: Dealer A1's virtual numbers (18 of 20 handed to Site A1).
    exhausted = section(page, "Pools at or above 90% use")
    expect(exhausted.get_by_role("table", name="Nearly exhausted pools")).to_be_attached()
    assert table_rows(page, "exhausted-table") == [["Dealer A1", "Virtual numbers", "20", "2", "90"]]

    # Unread notifications: the dealer's own unread one only.
    unread = section(page, "Unread notifications")
    expect(unread.get_by_role("listitem")).to_have_text([f"{iso(today)} · Licenses of Dealer A1 end in 40 days"])

    # Nothing of Dealer A2, Company A's own blocks or Company B.
    main = page.get_by_role("main")
    for other in ("Dealer A2", "Company A", "Company B", "Trial", "For the company administrator"):
        expect(main).not_to_contain_text(other)

    # The company administrator sees the whole of Company A, and none of Company B.
    page.get_by_role("button", name="Log out").click()
    page = browser_login(company_admin)
    expect(page).to_have_url(f"{live_server.url}/licenses/dashboard/")
    # Company A: its Trial 10 + Plus 100 virtual numbers; the dealers hold 20 + 30 of them.
    assert table_rows(page, "capacity-table") == [
        ["Virtual numbers", "110", "50", "45"],
        ["Mobile app installs", "90", "15", "17"],
        ["UKEY2 keys", "60", "0", "0"],
    ]
    trial_end = today + timedelta(days=29)
    assert table_rows(page, "expiry-table") == [
        [iso(today + timedelta(days=7)), "1"],
        [iso(today + timedelta(days=14)), "1"],
        [iso(today + timedelta(days=28)), "1"],
        [iso(today + timedelta(days=35)), "1"],
    ]
    expect(section(page, "Expiries in the next 90 days").get_by_role("listitem")).to_have_text([
        f"Site A1: Plus until {iso(land.site_a1_until)}",
        f"Dealer A2: Plus until {iso(today + timedelta(days=20))}",
        f"Company A: Trial until {iso(trial_end)}",
        f"Dealer A1: Plus until {iso(land.dealer_a1_until)}",
    ])
    assert table_rows(page, "exhausted-table") == [["Dealer A1", "Virtual numbers", "20", "2", "90"]]
    expect(section(page, "Unread notifications").get_by_role("listitem")).to_have_text(
        [f"{iso(today)} · For the company administrator"])
    expect(page.get_by_role("main")).not_to_contain_text("Company B")


def test_dashboard_with_nothing_ending_or_nearly_used_up_says_so(tree, person, operator, browser_login):
    give_company_pool(tree, operator, until=None)
    restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 10, "mobile_apps": 5})
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer-a1@test.example")
    page = browser_login(dealer)
    assert table_rows(page, "capacity-table") == [
        ["Virtual numbers", "10", "0", "0"], ["Mobile app installs", "5", "0", "0"], ["UKEY2 keys", "0", "0", "0"]]
    assert table_rows(page, "expiry-table") == [["None."]]
    expect(section(page, "Expiries in the next 90 days").get_by_role("listitem")).to_have_count(0)
    expect(section(page, "Expiries in the next 90 days").locator("svg rect[height='0']")).to_have_count(13)
    assert table_rows(page, "exhausted-table") == [["None."]]
    expect(section(page, "Unread notifications").get_by_role("listitem")).to_have_text(["None."])


def test_site_sharing_its_dealers_pool_is_not_told_nothing_is_limited(tree, person, operator, browser_login,
                                                                      live_server):
    give_company_pool(tree, operator, until=None)
    restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 10, "mobile_apps": 5})
    site = tree["Site A1"]
    page = browser_login(person(Role.SITE_ADMIN, site, email="site-a1@test.example"))
    capacity = section(page, "Capacity and use")
    expect(capacity).to_be_visible()
    page.goto(f"{live_server.url}/licenses/groups/{site.pk}/")
    # The pool belongs to the dealer, above this person's scope: it is not named.
    expect(page.locator("#status")).to_contain_text("Shares the pool of a group above your scope.")
    expect(page.locator("main")).not_to_contain_text("Dealer A1")
    page.go_back()
    expect(capacity).not_to_contain_text("nothing is limited", timeout=1000)
