"""Devices and residents in the browser: a device's Basic license joins the pool that serves
its group; a resident gets features from the apartment's pool and sees them in "My licenses".

Company A has a big pool with no end; Dealer A1 is restricted with its own Plus block, so it
is the pool that serves Site A1 and its apartments.
"""

import re

import pytest
from playwright.sync_api import expect

from groups.models import Role
from licenses import services
from licenses.models import Device, Grant, GrantFeature, LicenseBlock
from tests.e2e.licenses_support import (
    expect_status,
    give_company_pool,
    open_licenses,
    quantities,
    restrict_with_block,
    saved_message,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEALER_BLOCK = {"virtual_numbers": 10, "mobile_apps": 5, "remote_door_opening": 1}


@pytest.fixture
def dealer_pool(tree, operator):
    give_company_pool(tree, operator, until=None)
    return restrict_with_block(tree["Dealer A1"], operator, DEALER_BLOCK)


@pytest.fixture
def admin_page(tree, person, browser_login, dealer_pool):
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", is_staff=True)
    return browser_login(admin)


# --- 8. devices ----------------------------------------------------------------------------


def test_registered_device_brings_a_basic_license_to_the_serving_pool(admin_page, tree, live_server):
    page = admin_page
    site, dealer = tree["Site A1"], tree["Dealer A1"]
    page.goto(f"{live_server.url}/groups/{site.pk}/")
    page.get_by_role("link", name="Devices").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{site.pk}/devices/")
    expect(page.get_by_role("table", name="Devices")).to_contain_text("No devices.")

    page.get_by_label("Serial number").fill("SN-1001")
    page.get_by_label("Model").fill("DX-100")
    page.get_by_role("button", name="Register").click()

    expect(saved_message(page, "Device registered")).to_be_visible()
    rows = page.get_by_role("table", name="Devices").get_by_role("row")
    expect(rows).to_have_count(2)  # the header and the device
    expect(rows.nth(1).get_by_role("cell").nth(0)).to_have_text("SN-1001")
    expect(rows.nth(1).get_by_role("cell").nth(1)).to_have_text("DX-100")
    device = Device.objects.get(serial_number="SN-1001")
    assert (device.group_id, device.model) == (site.pk, "DX-100")
    block = LicenseBlock.objects.get(device=device)
    assert (block.group_id, block.kind, block.valid_from, block.valid_until) == (
        site.pk, "basic", services.today(), None)
    assert quantities(block) == {"virtual_numbers": 2, "mobile_apps": 2}

    # Dealer A1 serves Site A1: its limit grows by the Basic block's 2 + 2.
    open_licenses(page, live_server, dealer)
    expect_status(page, "Virtual numbers", 12, 0, 0, 12)
    expect_status(page, "Mobile app installs", 7, 0, 0, 7)
    expect(page.locator("#status")).to_contain_text("1 Basic license from devices counts here.")
    # Site A1 shares that pool and shows the same numbers.
    open_licenses(page, live_server, site)
    expect(page.locator("#status")).to_contain_text("Shares the pool of Dealer A1.")
    expect_status(page, "Virtual numbers", 12, 0, 0, 12)

    # The same serial number again (whatever the case) is refused at the field.
    page.goto(f"{live_server.url}/licenses/groups/{site.pk}/devices/")
    serial = page.get_by_label("Serial number")
    serial.fill("sn-1001")
    page.get_by_label("Model").fill("DX-200")
    page.get_by_role("button", name="Register").click()
    expect(serial).to_have_attribute("aria-invalid", "true")
    expect(serial).to_have_accessible_description(
        re.compile("A device with this serial number is already registered."))
    expect(serial).to_have_value("sn-1001")
    expect(page.get_by_label("Model")).to_have_value("DX-200")
    expect(page.get_by_role("table", name="Devices").get_by_role("row")).to_have_count(2)
    assert Device.objects.count() == 1
    assert LicenseBlock.objects.filter(device__isnull=False).count() == 1


# --- 9. residents ----------------------------------------------------------------------------


def grant_quantities(grant: Grant) -> dict[str, int]:
    return {gf.feature.code: gf.quantity
            for gf in GrantFeature.objects.filter(grant=grant, quantity__gt=0).select_related("feature")}


def test_resident_gets_features_within_the_pool_and_sees_them(admin_page, tree, person, browser_login,
                                                               live_server):
    page = admin_page
    today = services.today()
    apartment = tree.apartment("Site A1")
    rita = person(Role.RESIDENT, apartment, email="rita@test.example", name="Rita Resident")

    page.goto(f"{live_server.url}/groups/{apartment.pk}/")
    page.get_by_role("link", name="Rita Resident").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{apartment.pk}/residents/{rita.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rita Resident")
    pool_line = page.get_by_text("Served by the pool of Dealer A1.")
    expect(pool_line).to_contain_text("Virtual numbers: 10 available")

    page.get_by_label("Virtual numbers").fill("2")
    page.get_by_label("Mobile app installs").fill("2")
    page.get_by_label("Remote door opening").check()
    page.get_by_role("button", name="Save").click()
    expect(saved_message(page, "Grant saved.")).to_be_visible()
    expect(pool_line).to_contain_text("Virtual numbers: 8 available")
    expect(page.get_by_label("Virtual numbers")).to_have_value("2")
    expect(page.get_by_label("Remote door opening")).to_be_checked()
    grant = Grant.objects.get(group=apartment, user=rita)
    assert grant.suspended_at is None
    assert grant_quantities(grant) == {"virtual_numbers": 2, "mobile_apps": 2, "remote_door_opening": 1}

    # More than the pool has: refused with the numbers, nothing changes.
    page.get_by_label("Virtual numbers").fill("50")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Dealer A1 has 8 Virtual numbers free on {today.isoformat()}; this asks for 48: lower it by 40.")
    expect(page.get_by_label("Virtual numbers")).to_have_value("50")
    expect(saved_message(page, "Grant saved.")).to_have_count(0)
    assert grant_quantities(grant) == {"virtual_numbers": 2, "mobile_apps": 2, "remote_door_opening": 1}

    # Dealer A1's status counts what the resident uses.
    open_licenses(page, live_server, tree["Dealer A1"])
    expect_status(page, "Virtual numbers", 10, 0, 2, 8)
    expect_status(page, "Mobile app installs", 5, 0, 2, 3)

    # The resident logs in and finds them under "My licenses".
    page.get_by_role("button", name="Log out").click()
    page = browser_login(rita)
    page.get_by_role("link", name="My licenses").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/mine/")
    expect(page.get_by_role("heading", name="My licenses")).to_be_visible()
    mine = page.get_by_role("region", name=apartment.name)
    expect(mine.locator("dt")).to_have_text(
        ["Virtual numbers: 2", "Mobile app installs: 2", "Remote door opening"])
    expect(mine.locator("dd").last).to_have_text("open the door from the app")
