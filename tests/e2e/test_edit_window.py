"""The Edit window as BAS-IP users know it: the tree's rows, the Save icon, every error at once,
and My licenses, in the browser, as the people who use them."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from groups.models import Membership, Role
from licenses import services
from tests.e2e.licenses_support import (
    cards,
    dealer_and_site_pools,
    fill_card,
    give_company_pool,
    iso,
    open_licenses,
    own_blocks,
    restrict_and_add,
    restrict_with_block,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def row_of(page, name):
    return page.locator(".tree-row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_tree_rows_show_the_pool_its_use_the_next_end_and_only_the_actions_allowed(tree, person, operator,
                                                                                    browser_login, live_server):
    today = dealer_and_site_pools(tree, operator)
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer@test.example")
    page = browser_login(dealer)
    page.goto(f"{live_server.url}/groups/")
    row = row_of(page, "Dealer A1")
    expect(row.locator(".tree-kind")).to_have_text("Dealer")
    expect(row.locator(".tree-pool")).to_have_text("Own pool")
    # Site A1 holds 5 of the dealer's 20 virtual numbers.
    expect(row.get_by_role("meter", name="Virtual numbers in use in Dealer A1")).to_have_attribute("value", "5")
    expect(row.locator(".tree-use")).to_contain_text("5 / 20")
    expect(row.locator(".tree-end")).to_have_text(f"ends {iso(today + timedelta(days=90))}")
    # Edit beside the group; its own group cannot be deleted by its administrator, nor moved above it.
    edit = row.get_by_role("link", name="Edit", exact=True)
    expect(edit).to_have_attribute("href", f"/groups/{tree['Dealer A1'].pk}/edit/")
    expect(edit).to_have_accessible_description("Dealer A1")
    row.get_by_role("button", name="More actions for Dealer A1").click()
    expect(row.get_by_role("menu").or_(row.locator(".dropdown-menu")).get_by_role("link")).to_have_text(
        ["Licenses", "Move", "Generate groups"])

    # One level down, loaded when opened: a site with its own pool, and one that shares.
    page.get_by_role("button", name="Open Dealer A1").click()
    site = row_of(page, "Site A1")
    expect(site.locator(".tree-pool")).to_have_text("Own pool")
    expect(site.locator(".tree-end")).to_have_text(f"ends {iso(today + timedelta(days=30))}")
    site.get_by_role("button", name="More actions for Site A1").click()
    expect(site.locator(".dropdown-menu").get_by_role("link")).to_have_text(
        ["Licenses", "Move", "Generate groups", "Delete"])
    site.locator(".dropdown-menu").get_by_role("link", name="Licenses").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit group → Licenses")


def test_the_tree_row_of_a_group_sharing_its_pool_says_so(tree, person, operator, browser_login, live_server):
    concierge = person(Role.CONCIERGE, tree["Site A1"], email="porter@test.example")
    page = browser_login(concierge)
    page.goto(f"{live_server.url}/groups/")
    row = row_of(page, "Site A1")
    expect(row.locator(".tree-pool")).to_have_text("Shared")
    # A concierge edits nothing: no Edit, and the menu offers only the license status.
    expect(row.get_by_role("link", name="Edit", exact=True)).to_have_count(0)
    row.get_by_role("button", name="More actions for Site A1").click()
    expect(row.locator(".dropdown-menu").get_by_role("link")).to_have_text(["Licenses"])



def test_every_error_of_the_form_is_listed_at_once_and_links_to_its_field(company_admin_page, tree, live_server):
    page = company_admin_page
    today = services.today()
    add = restrict_and_add(page, live_server, tree["Dealer A1"])
    fill_card(cards(page).nth(0), vn=5, apps=5, valid_from=today + timedelta(days=10), valid_until=today)
    add.click()
    fill_card(cards(page).nth(1), vn=1000, apps=10, valid_until=today + timedelta(days=60))
    page.get_by_role("button", name="Save").click()

    # One round: the dates in the wrong order and the over-allocation of the other card, together.
    summary = page.locator("#form-errors")
    expect(summary.get_by_role("heading")).to_have_text("2 things to fix before saving:")
    expect(summary.get_by_role("listitem")).to_have_text([
        re.compile(r"^License block 1 · Valid until: .*before"),
        f"License block 2 · Virtual numbers: Company A has 110 Virtual numbers free on {iso(today)}; "
        f"this asks for 1000: lower it by 890.",
    ])
    # Each links to its field, which is marked invalid and described by its message.
    vn = cards(page).nth(1).get_by_label("Virtual numbers", exact=True)
    expect(vn).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(vn).to_have_accessible_description(re.compile("lower it by 890"))
    summary.get_by_role("link", name="License block 2 · Virtual numbers").click()
    expect(vn).to_be_focused()
    until = cards(page).nth(0).get_by_label("Valid until")
    expect(until).to_have_class(re.compile(r"\bis-invalid\b"))
    assert own_blocks(tree["Dealer A1"]) == []


def test_save_is_a_round_icon_in_the_lower_right_that_covers_no_field(company_admin_page, tree, live_server):
    page = company_admin_page
    page.set_viewport_size({"width": 1366, "height": 768})
    open_licenses(page, live_server, tree["Dealer A1"])
    save = page.get_by_role("button", name="Save")
    save.hover()
    expect(page.get_by_role("tooltip")).to_have_text("Save")
    box = save.bounding_box()
    assert box["width"] == box["height"] and box["x"] + box["width"] > 1366 - 60 and box["y"] + box["height"] > 768 - 60
    # Scrolled to the end, the last field of the form stays clear of the button.
    page.get_by_role("button", name="Add new license").click()
    page.mouse.wheel(0, 5000)
    last = cards(page).last.get_by_role("checkbox").last
    field = last.bounding_box()
    button = save.bounding_box()
    assert field["y"] + field["height"] <= button["y"] or field["x"] + field["width"] <= button["x"]
    # The keyboard reaches it.
    save.focus()
    expect(save).to_be_focused()


def test_a_resident_sees_building_validity_and_what_each_feature_allows(tree, person, operator, browser_login,
                                                                        live_server):
    give_company_pool(tree, operator, until=None)
    today = services.today()
    restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 20, "mobile_apps": 10},
                        until=today + timedelta(days=90))
    apartment = tree.apartment("Site A1")
    resident = UserFactory(email="rita@test.example", name="Rita Resident")
    Membership.objects.create(user=resident, group=apartment, role=Role.RESIDENT)
    services.grant_set(group=apartment, user=resident, quantities={"virtual_numbers": 2, "mobile_apps": 1},
                       actor=operator)
    page = browser_login(resident)
    page.goto(f"{live_server.url}/licenses/mine/")
    card = page.get_by_role("region", name=apartment.name)
    expect(card.get_by_role("heading")).to_have_text(f"{apartment.parent.parent.name} · {apartment.name}")
    expect(card.locator(".validity")).to_have_text(f"Valid until {iso(today + timedelta(days=90))}.")
    expect(card.locator("dt")).to_have_text(["Virtual numbers: 2", "Mobile app installs: 1"])
    expect(card.locator("dd")).to_have_text(["a phone number the intercom calls", "the intercom app on a phone"])
