"""axe-core on the license pages and the tree pages that lead to them, in the states a person
meets: saved blocks, a new card, errors at a block and at a field, an opened tree.

Only violations of impact "serious" or "critical" fail; each is printed with its nodes.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from groups.models import Role
from licenses import services
from licenses.models import Device, Grant
from tests.e2e.licenses_support import (
    cards,
    fill_card,
    give_company_pool,
    open_licenses,
    own_blocks,
    restrict_with_block,
)
from tests.e2e.reports_support import serious_violations  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

def test_license_and_tree_pages_have_no_serious_accessibility_violations(tree, person, operator,
                                                                         browser_login, live_server):
    give_company_pool(tree, operator, until=None)
    dealer, site = tree["Dealer A1"], tree["Site A1"]
    restrict_with_block(dealer, operator, {"virtual_numbers": 10, "mobile_apps": 5, "remote_door_opening": 1})
    services.device_register(group=site, serial_number="SN-1", model="DX-1", actor=operator)
    apartment = tree.apartment("Site A1")
    rita = person(Role.RESIDENT, apartment, email="rita@test.example", name="Rita Resident")
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", is_staff=True)
    page = browser_login(admin)
    axe = Axe()
    report: dict[str, list[str]] = {}

    # The Licenses page: reminder options shown, a refused new card, the saved card opened.
    open_licenses(page, live_server, dealer)
    page.get_by_label("Reminder of the end of the license period").check()
    page.get_by_role("button", name="Add new license").click()
    fill_card(cards(page).nth(1), vn=1, apps=5)
    page.get_by_role("button", name="Save").click()
    expect(cards(page).nth(1).locator(".block-errors")).to_be_visible()
    expect(page.get_by_label("Days before expiry")).to_be_visible()
    cards(page).nth(0).locator("summary").click()
    expect(cards(page).nth(0).get_by_label("Virtual numbers", exact=True)).to_be_visible()
    report["licenses"] = serious_violations(page, axe)

    # The devices page, after a refused duplicate.
    page.goto(f"{live_server.url}/licenses/groups/{site.pk}/devices/")
    page.get_by_label("Serial number").fill("SN-1")
    page.get_by_label("Model").fill("DX-1")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_label("Serial number")).to_have_attribute("aria-invalid", "true")
    report["devices"] = serious_violations(page, axe)

    # A resident's page, after a refused grant.
    page.goto(f"{live_server.url}/licenses/groups/{apartment.pk}/residents/{rita.pk}/")
    page.get_by_label("Virtual numbers").fill("500")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("lower it by")
    report["resident"] = serious_violations(page, axe)

    # The tree, opened one level, and a group page.
    page.goto(f"{live_server.url}/groups/")
    page.get_by_role("button", name="Open Company A").click()
    expect(page.locator("#tree").get_by_role("link", name="Dealer A1", exact=True)).to_be_visible()
    report["tree"] = serious_violations(page, axe)
    page.goto(f"{live_server.url}/groups/{dealer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dealer A1")
    report["group page"] = serious_violations(page, axe)

    # The refused saves on the way saved nothing.
    assert len(own_blocks(dealer)) == 1
    assert Device.objects.count() == 1
    assert not Grant.objects.filter(user=rita).exists()

    failures = {name: found for name, found in report.items() if found}
    assert not failures, "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in failures.items())
