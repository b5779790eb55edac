"""The pages around the reports, as the person who uses each: a group's history, the
notifications and their badge, the profile, and the residents' licenses of an apartment.
"""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from groups.models import Role, User
from licenses import services
from licenses.models import Grant, GrantFeature
from notifications.models import Notification
from notifications.services import send_license_reminders
from tests.e2e.licenses_support import (
    cards,
    give_company_pool,
    iso,
    restrict_with_block,
    saved_message,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


# --- history ---------------------------------------------------------------------------


def filter_history(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()


def history_row(page, what: str):
    return page.get_by_role("table", name="History").get_by_role("row").filter(
        has=page.get_by_role("cell", name=what, exact=True))


def test_history_tells_who_changed_what_from_what_to_what(tree, person, operator, browser_login, live_server):
    give_company_pool(tree, operator, until=None)
    block = restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 10, "mobile_apps": 5})
    dealer = tree["Dealer A1"]
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", name="Carla Admin")
    page = browser_login(admin)

    # Carla renames the dealer and raises its block's virtual numbers.
    page.goto(f"{live_server.url}/groups/{dealer.pk}/")
    page.get_by_role("link", name="Edit", exact=True).first.click()  # the group's own, before its rows below
    page.get_by_label("Name").fill("Dealer North")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dealer North")
    page.get_by_role("link", name="Licenses", exact=True).click()
    card = cards(page).nth(0)
    card.locator("summary").click()
    card.get_by_label("Virtual numbers", exact=True).fill("15")
    page.get_by_role("button", name="Save").click()
    expect(saved_message(page)).to_be_visible()

    page.goto(f"{live_server.url}/groups/{dealer.pk}/")
    page.get_by_role("link", name="History", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{dealer.pk}/history/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Group → History Dealer North")
    table = page.get_by_role("table", name="History")
    expect(table.get_by_role("columnheader")).to_have_text(["When", "Who", "What", "Change"])

    renamed = history_row(page, "Group Dealer North (changed)")
    expect(renamed).to_have_count(1)
    expect(renamed.get_by_role("cell").nth(1)).to_have_text("Carla Admin <ca@test.example>")
    expect(renamed.get_by_role("cell").nth(3)).to_have_text("name: Dealer A1 → Dealer North")

    raised = history_row(page, f"Block #{block.pk}: Virtual numbers (changed)")
    expect(raised).to_have_count(1)
    expect(raised.get_by_role("cell").nth(1)).to_have_text("Carla Admin <ca@test.example>")
    expect(raised.get_by_role("cell").nth(3)).to_have_text("quantity: 10 → 15")

    # What the operator did when the dealer was first restricted.
    created = history_row(page, f"Block #{block.pk}: Virtual numbers (created)")
    expect(created.get_by_role("cell").nth(1)).to_have_text(str(operator))
    expect(created.get_by_role("cell").nth(3)).to_contain_text("quantity: 10")
    expect(history_row(page, "Group Dealer A1 (created)")).to_have_count(1)

    # "What" narrows the table to license blocks, then to the group itself.
    page.get_by_label("What").select_option(label="License blocks")
    filter_history(page)
    expect(page.get_by_label("What")).to_have_value("block")
    expect(history_row(page, f"Block #{block.pk}: Virtual numbers (changed)")).to_have_count(1)
    expect(history_row(page, "Group Dealer North (changed)")).to_have_count(0)
    expect(history_row(page, "License settings (created)")).to_have_count(0)
    whats = table.locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert whats and all(w.startswith(f"Block #{block.pk}") for w in whats), whats

    page.get_by_label("What").select_option(label="The group and its place in the tree")
    filter_history(page)
    expect(table.locator("tbody tr td:nth-child(3)")).to_have_text(
        ["Group Dealer North (changed)", "Group Dealer A1 (created)"])

    # "Who" keeps only Carla's changes.
    page.get_by_label("What").select_option(label="Everything")
    page.get_by_label("Who (email)").fill("ca@test")
    filter_history(page)
    expect(history_row(page, "Group Dealer North (changed)")).to_have_count(1)
    expect(history_row(page, f"Block #{block.pk}: Virtual numbers (changed)")).to_have_count(1)
    expect(history_row(page, "Group Dealer A1 (created)")).to_have_count(0)
    who = table.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert set(who) == {"Carla Admin <ca@test.example>"}, who


def test_saving_the_licenses_unchanged_records_no_change(tree, person, operator, browser_login, live_server):
    give_company_pool(tree, operator, until=None)
    restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 10, "mobile_apps": 5})
    dealer = tree["Dealer A1"]
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", name="Carla Admin")
    page = browser_login(admin)
    page.goto(f"{live_server.url}/licenses/groups/{dealer.pk}/")
    page.get_by_role("button", name="Save").click()
    expect(saved_message(page)).to_be_visible()
    page.goto(f"{live_server.url}/licenses/groups/{dealer.pk}/history/")
    table = page.get_by_role("table", name="History")
    expect(table.locator("tbody tr").first).to_be_visible()
    # Every row says what changed; nothing was changed by Carla.
    expect(table.locator("tbody tr td:nth-child(4):empty")).to_have_count(0, timeout=1000)
    expect(table.locator("tbody tr td:nth-child(2)", has_text="Carla Admin")).to_have_count(0, timeout=1000)


# --- notifications ---------------------------------------------------------------------


def notifications_link(page):
    return page.get_by_role("navigation", name="Main").locator("#nav-notifications")


def test_reminders_show_in_the_badge_and_the_list_until_marked_read(tree, person, browser_login, live_server):
    """Company A's Trial (reminders on, 7 days before its end, daily) reaches its administrator."""
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", name="Carla Admin")
    other = person(Role.COMPANY_ADMIN, tree["Company B"], email="cb@test.example")
    today = services.today()
    trial_end = today + timedelta(days=29)
    for day in (trial_end - timedelta(days=7), trial_end - timedelta(days=6)):
        sweep = send_license_reminders(on=day)
        assert {(a.recipient, a.status) for a in sweep.actions} == {("ca@test.example", "sent"),
                                                                     ("cb@test.example", "sent")}
    Notification.objects.filter(user=other).update(title="Company B's reminder")

    page = browser_login(admin)
    link = notifications_link(page)
    expect(link).to_have_accessible_name("Notifications 2 unread")
    expect(link.locator(".badge")).to_have_text("2")
    unread = page.get_by_role("region", name="Unread notifications")
    expect(unread.get_by_role("listitem")).to_have_text([
        f"{iso(today)} · Licenses of Company A end in 6 days",
        f"{iso(today)} · Licenses of Company A end in 7 days",
    ])

    link.click()
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    items = page.locator("#notifications > li")
    expect(items).to_have_count(2)
    expect(items.locator(".fw-semibold")).to_have_text(["Licenses of Company A end in 6 days",
                                                        "Licenses of Company A end in 7 days"])
    expect(items.nth(1)).to_contain_text("Hello Carla Admin,")
    expect(items.nth(1)).to_contain_text(f"Trial: valid {iso(today)} – {iso(trial_end)} (7 days left)")
    items.nth(1).get_by_role("link", name="Company A").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{tree['Company A'].pk}/")
    expect(notifications_link(page).locator(".badge")).to_have_text("2")  # reading elsewhere is not reading them
    page.go_back()

    page.get_by_role("button", name="Mark all as read").click()
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    expect(notifications_link(page)).to_have_accessible_name("Notifications")
    expect(notifications_link(page).locator(".badge")).to_have_count(0)
    expect(items.locator(".fw-semibold")).to_have_text(["Licenses of Company A end in 6 days",
                                                        "Licenses of Company A end in 7 days"])
    expect(page.get_by_role("main")).not_to_contain_text("Company B")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("region", name="Unread notifications").get_by_role("listitem")).to_have_text(["None."])
    # The other administrator's notification is still unread.
    assert Notification.objects.filter(user=other, read_at__isnull=True).count() == 2


# --- profile ---------------------------------------------------------------------------


def test_changed_name_shows_in_the_navigation_bar(tree, person, browser_login, live_server):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer-a1@test.example", name="Dora Dealer")
    page = browser_login(dealer)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Dora Dealer").click()
    expect(page).to_have_url(f"{live_server.url}/profile/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Profile")
    name = page.get_by_label("Name")
    expect(name).to_have_value("Dora Dealer")
    name.fill("Dora Dealer-Smith")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Profile saved.")
    expect(nav.get_by_role("link", name="Dora Dealer-Smith")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Dora Dealer-Smith")
    nav.get_by_role("link", name="Dashboard").click()
    expect(nav.get_by_role("link", name="Dora Dealer-Smith")).to_be_visible()
    assert User.objects.get(pk=dealer.pk).name == "Dora Dealer-Smith"


# --- residents' licenses of an apartment -----------------------------------------------


def grant_quantities(group, user) -> dict[str, int]:
    return {gf.feature.code: gf.quantity for gf in GrantFeature.objects.filter(
        grant__group=group, grant__user=user, quantity__gt=0).select_related("feature")}


def resident_row(page, name: str):
    return page.get_by_role("table", name="Residents and their grants").get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=name))


def test_residents_quantities_are_saved_together_or_not_at_all(tree, person, operator, browser_login, live_server):
    give_company_pool(tree, operator, until=None)
    restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 10, "mobile_apps": 5,
                                                      "remote_door_opening": 1})
    apartment = tree.apartment("Site A1")
    rita = person(Role.RESIDENT, apartment, email="rita@test.example", name="Rita Resident")
    sam = person(Role.RESIDENT, apartment, email="sam@test.example", name="Sam Sitter")
    tom = person(Role.RESIDENT, apartment, email="tom@test.example", name="Tom Tenant")
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example")
    page = browser_login(admin)
    today = iso(services.today())

    page.goto(f"{live_server.url}/groups/{apartment.pk}/")
    page.get_by_role("link", name="Residents' licenses").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{apartment.pk}/residents/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Residents' licenses {apartment.name}")
    room = page.locator("#pool-room")
    expect(room).to_contain_text("Served by the pool of Dealer A1.")
    expect(room).to_contain_text("Virtual numbers: 10 available; Mobile app installs: 5 available")

    page.get_by_label("Virtual numbers · Rita Resident").fill("3")
    page.get_by_label("Mobile app installs · Rita Resident").fill("2")
    page.get_by_label("Virtual numbers · Sam Sitter").fill("4")
    resident_row(page, "Tom Tenant").get_by_label("Remote door opening").check()
    page.get_by_role("button", name="Save all").click()
    expect(saved_message(page, "Grants saved: 3.")).to_be_visible()
    expect(room).to_contain_text("Virtual numbers: 3 available; Mobile app installs: 3 available")
    expect(page.get_by_label("Virtual numbers · Rita Resident")).to_have_value("3")
    expect(page.get_by_label("Mobile app installs · Rita Resident")).to_have_value("2")
    expect(page.get_by_label("Virtual numbers · Sam Sitter")).to_have_value("4")
    expect(page.get_by_label("Virtual numbers · Tom Tenant")).to_have_value("0")
    expect(resident_row(page, "Tom Tenant").get_by_label("Remote door opening")).to_be_checked()
    assert grant_quantities(apartment, rita) == {"virtual_numbers": 3, "mobile_apps": 2}
    assert grant_quantities(apartment, sam) == {"virtual_numbers": 4}
    assert grant_quantities(apartment, tom) == {"remote_door_opening": 1}

    # Rita gives one back, Tom asks for more than the pool has: refused at Tom's row, nothing saved.
    page.get_by_label("Virtual numbers · Rita Resident").fill("1")
    page.get_by_label("Virtual numbers · Tom Tenant").fill("50")
    page.get_by_role("button", name="Save all").click()
    error = resident_row(page, "Tom Tenant").get_by_role("alert")
    expect(error).to_contain_text(f"Dealer A1 has 5 Virtual numbers free on {today}; this asks for 50: lower it by 45.")
    expect(page.get_by_role("alert")).to_have_count(1)  # at Tom's row only, no "saved" message
    expect(resident_row(page, "Rita Resident").get_by_role("alert")).to_have_count(0)
    expect(page.get_by_label("Virtual numbers · Tom Tenant")).to_have_value("50")
    expect(page.get_by_label("Virtual numbers · Rita Resident")).to_have_value("1")
    expect(room).to_contain_text("Virtual numbers: 3 available")
    assert grant_quantities(apartment, rita) == {"virtual_numbers": 3, "mobile_apps": 2}
    assert grant_quantities(apartment, tom) == {"remote_door_opening": 1}
    assert Grant.objects.filter(group=apartment).count() == 3

    page.goto(f"{live_server.url}/licenses/groups/{apartment.pk}/residents/")
    expect(page.get_by_label("Virtual numbers · Rita Resident")).to_have_value("3")
    expect(page.get_by_label("Virtual numbers · Tom Tenant")).to_have_value("0")
