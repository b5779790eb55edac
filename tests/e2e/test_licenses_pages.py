"""The Licenses section of a group, in the browser, as the administrator who uses it.

Company A (a company: its Trial block of 10 of each counted feature runs 30 days) gets a
big Plus pool with no end from the server administrator; its company administrator then
hands Dealer A1 its licenses on /licenses/groups/<id>/.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from groups.models import Role
from licenses import services
from licenses.models import PoolSettings, Recurrence
from tests.e2e.licenses_support import (
    COLUMNS,
    block_error,
    cards,
    expect_status,
    fill_card,
    give_company_pool,
    iso,
    open_licenses,
    own_blocks,
    quantities,
    restrict_and_add,
    restrict_with_block,
    saved_message,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]



# --- 1. the seed's flow ----------------------------------------------------------------


def test_company_admin_restricts_dealer_with_reminder_and_two_new_blocks(company_admin_page, tree, live_server):
    page = company_admin_page
    today = services.today()
    dealer = tree["Dealer A1"]

    # From the tree: open Company A, then Dealer A1, then its Licenses section.
    page.goto(f"{live_server.url}/groups/")
    page.get_by_role("button", name="Open Company A").click()
    page.locator("#tree").get_by_role("link", name="Dealer A1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dealer A1")
    page.get_by_role("link", name="Licenses", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{dealer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Licenses")
    # Not restricted yet: Dealer A1 shares Company A's pool.
    expect(page.locator("#status")).to_contain_text("Shares the pool of Company A.")
    expect(page.get_by_text("No license blocks yet.")).to_be_visible()

    page.get_by_role("switch", name="Enable restriction").check()
    days = page.get_by_label("Days before expiry")
    recurrence = page.get_by_label("Recurrence")
    expect(days).to_be_hidden()
    expect(recurrence).to_be_hidden()
    page.get_by_label("Reminder of the end of the license period").check()
    expect(days).to_be_visible()
    expect(recurrence).to_be_visible()
    days.fill("14")
    recurrence.select_option(label="Weekly")

    page.evaluate("window.__sameDocument = true")
    add = page.get_by_role("button", name="Add new license")
    expect(add).to_have_class(re.compile(r"\bbtn-success\b"))  # the green button
    add.click()
    expect(cards(page)).to_have_count(1)
    first = cards(page).nth(0)
    expect(first.get_by_label("Valid from")).to_have_value(iso(today))  # a new card opens ready to fill in
    fill_card(first, vn=20, apps=10, ukey=5, valid_until=today + timedelta(days=20),
              switches=["Remote door opening"], note="First year")
    add.click()
    expect(cards(page)).to_have_count(2)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded when a card was added"
    # What was typed in the first card is still there.
    expect(first.get_by_label("Virtual numbers", exact=True)).to_have_value("20")
    expect(first.get_by_label("Mobile app installs", exact=True)).to_have_value("10")
    expect(first.get_by_label("Valid until")).to_have_value(iso(today + timedelta(days=20)))
    expect(first.get_by_label("Remote door opening", exact=True)).to_be_checked()
    expect(first.get_by_label("Note")).to_have_value("First year")
    second = cards(page).nth(1)
    fill_card(second, vn=30, apps=30, valid_from=today + timedelta(days=10))  # no end
    page.get_by_role("button", name="Save").click()

    expect(saved_message(page)).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{dealer.pk}/")
    # Its own pool now: today only the first block counts; nothing held below, nobody uses any.
    expect(page.locator("#status").get_by_text("Shares the pool of")).to_have_count(0)
    table = page.get_by_role("table", name="Pool status today")
    expect(table.locator("thead th")).to_have_text(COLUMNS)
    expect_status(page, "Virtual numbers", 20, 0, 0, 20)
    expect_status(page, "Mobile app installs", 10, 0, 0, 10)
    expect_status(page, "UKEY2 keys", 5, 0, 0, 5)
    expect(page.locator("#status")).to_contain_text("Switch features in force: Remote door opening")
    states = page.locator("#block-states li")
    expect(states).to_have_text([
        f"Plus {iso(today)} – {iso(today + timedelta(days=20))}: ending",
        f"Plus {iso(today + timedelta(days=10))} – no end: scheduled",
    ])
    # Weekly, 14 days before the end of the first block: today + 6, + 13, + 20.
    expect(page.locator("#next-reminder")).to_have_text(f"Next reminder: {iso(today + timedelta(days=6))}")
    # The saved blocks are cards with a one-line summary.
    expect(cards(page)).to_have_count(2)
    expect(cards(page).nth(0).locator("summary")).to_contain_text(
        "Virtual numbers: 20, Mobile app installs: 10, UKEY2 keys: 5")
    # The settings are shown as saved.
    expect(page.get_by_role("switch", name="Enable restriction")).to_be_checked()
    expect(page.get_by_label("Reminder of the end of the license period")).to_be_checked()
    expect(days).to_have_value("14")
    expect(recurrence).to_have_value(Recurrence.WEEKLY)

    settings = PoolSettings.objects.get(group=dealer)
    assert (settings.restricted, settings.reminder_enabled, settings.reminder_days, settings.recurrence,
            settings.notify_expired) == (True, True, 14, Recurrence.WEEKLY, True)
    blocks = own_blocks(tree["Dealer A1"])
    assert [(b.kind, b.valid_from, b.valid_until, b.note) for b in blocks] == [
        ("plus", today, today + timedelta(days=20), "First year"),
        ("plus", today + timedelta(days=10), None, ""),
    ]
    assert quantities(blocks[0]) == {"virtual_numbers": 20, "mobile_apps": 10, "ukey2_keys": 5,
                                     "remote_door_opening": 1}
    assert quantities(blocks[1]) == {"virtual_numbers": 30, "mobile_apps": 30}

    # Company A's status (read-only for its own administrator) shows what Dealer A1 holds.
    open_licenses(page, live_server, tree["Company A"])
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect_status(page, "Virtual numbers", 110, 20, 0, 90)
    expect_status(page, "Mobile app installs", 90, 10, 0, 80)


# --- 2-4. what the pool rules refuse ----------------------------------------------------


def test_over_allocation_is_refused_at_the_block_and_nothing_is_saved(company_admin_page, tree, live_server):
    page = company_admin_page
    today = services.today()
    add = restrict_and_add(page, live_server, tree["Dealer A1"])
    fill_card(cards(page).nth(0), vn=5, apps=5, valid_until=today + timedelta(days=60))
    add.click()
    fill_card(cards(page).nth(1), vn=1000, apps=10, valid_until=today + timedelta(days=60))
    add.click()
    fill_card(cards(page).nth(2), vn=1, apps=1, note="dropped")
    cards(page).nth(2).get_by_role("button", name="Remove this block").click()
    expect(cards(page)).to_have_count(2)
    page.get_by_role("button", name="Save").click()

    # Company A has 10 (Trial) + 100 (Plus) today; the 5 of the valid card count too.
    too_big = cards(page).nth(1)
    expect(block_error(too_big)).to_have_text(
        f"Company A has 110 Virtual numbers free on {iso(today)}; this asks for 1005: lower it by 895.")
    expect(too_big.locator("summary")).to_contain_text("error")
    # Both cards are valid that day, so the shortfall (their sum) is shown on each.
    expect(block_error(cards(page).nth(0))).to_contain_text("this asks for 1005")
    expect(saved_message(page)).to_have_count(0)
    # What was typed is still in the form.
    expect(too_big.get_by_label("Virtual numbers", exact=True)).to_have_value("1000")
    expect(too_big.get_by_label("Valid until")).to_have_value(iso(today + timedelta(days=60)))
    expect(cards(page).nth(0).get_by_label("Virtual numbers", exact=True)).to_have_value("5")
    expect(page.get_by_role("switch", name="Enable restriction")).to_be_checked()
    # The card removed before saving does not come back with the error.
    expect(cards(page)).to_have_count(2)

    assert own_blocks(tree["Dealer A1"]) == []
    assert not PoolSettings.objects.filter(group=tree["Dealer A1"], restricted=True).exists()


def test_block_running_past_the_end_of_the_owners_pool_is_refused(tree, person, operator, browser_login, live_server):
    today = give_company_pool(tree, operator, until=services.today() + timedelta(days=365))
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example")
    page = browser_login(admin)
    open_licenses(page, live_server, tree["Dealer A1"])
    page.get_by_role("switch", name="Enable restriction").check()
    page.get_by_role("button", name="Add new license").click()
    fill_card(cards(page).nth(0), vn=10, apps=10, valid_until=today + timedelta(days=400))
    page.get_by_role("button", name="Save").click()

    # One line, naming the end of the license above, not one per feature.
    expect(block_error(cards(page).nth(0))).to_have_text(
        f"This block runs past the license of Company A, which ends on {iso(today + timedelta(days=365))}.")
    expect(cards(page).nth(0).get_by_label("Valid until")).to_have_value(iso(today + timedelta(days=400)))
    assert own_blocks(tree["Dealer A1"]) == []
    assert not PoolSettings.objects.filter(group=tree["Dealer A1"], restricted=True).exists()


def test_fewer_virtual_numbers_than_mobile_apps_is_refused(company_admin_page, tree, live_server):
    page = company_admin_page
    open_licenses(page, live_server, tree["Dealer A1"])
    page.get_by_role("switch", name="Enable restriction").check()
    page.get_by_role("button", name="Add new license").click()
    fill_card(cards(page).nth(0), vn=5, apps=10)
    page.get_by_role("button", name="Save").click()

    card = cards(page).nth(0)
    expect(block_error(card)).to_have_text("Virtual numbers (5) must be at least the mobile app installs (10).")
    expect(card.get_by_label("Mobile app installs", exact=True)).to_have_value("10")
    assert own_blocks(tree["Dealer A1"]) == []
    assert not PoolSettings.objects.filter(group=tree["Dealer A1"]).exists()


def test_reminder_days_out_of_range_are_shown_even_with_the_reminder_unticked(company_admin_page, tree,
                                                                             live_server):
    page = company_admin_page
    open_licenses(page, live_server, tree["Dealer A1"])
    reminder = page.get_by_label("Reminder of the end of the license period")
    reminder.check()
    page.get_by_label("Days before expiry").fill("0")
    reminder.uncheck()  # changed their mind, the 0 stays in the (now hidden) field
    page.get_by_role("switch", name="Enable restriction").check()
    page.get_by_role("button", name="Save").click()

    days = page.get_by_label("Days before expiry")
    expect(days).to_be_visible()
    expect(days).to_have_value("0")
    expect(page.locator("#reminder-options")).to_contain_text("Ensure this value is greater than or equal to 1.")
    expect(saved_message(page)).to_have_count(0)
    assert not PoolSettings.objects.filter(group=tree["Dealer A1"]).exists()


# --- 5. editing and removing blocks -------------------------------------------------------------------


def test_removed_new_card_is_not_created_and_a_saved_block_can_be_removed(company_admin_page, tree, live_server):
    page = company_admin_page
    today = services.today()
    dealer = tree["Dealer A1"]
    open_licenses(page, live_server, dealer)
    page.get_by_role("switch", name="Enable restriction").check()
    add = page.get_by_role("button", name="Add new license")
    add.click()
    fill_card(cards(page).nth(0), vn=10, apps=4, note="keep")
    add.click()
    fill_card(cards(page).nth(1), vn=7, apps=7, note="dropped")
    cards(page).nth(1).get_by_role("button", name="Remove this block").click()
    expect(cards(page)).to_have_count(1)
    expect(add).to_be_focused()
    page.get_by_role("button", name="Save").click()

    expect(saved_message(page)).to_be_visible()
    expect(cards(page)).to_have_count(1)
    expect(page.locator("#block-states li")).to_have_text([f"Plus {iso(today)} – no end: active"])
    expect_status(page, "Virtual numbers", 10, 0, 0, 10)
    blocks = own_blocks(tree["Dealer A1"])
    assert [(b.note, quantities(b)) for b in blocks] == [("keep", {"virtual_numbers": 10, "mobile_apps": 4})]

    # A second one, saved, then removed with the same "Remove this block" button.
    add.click()
    fill_card(cards(page).nth(1), vn=3, apps=3, valid_until=today + timedelta(days=90), note="short")
    page.get_by_role("button", name="Save").click()
    expect(saved_message(page)).to_be_visible()
    expect_status(page, "Virtual numbers", 13, 0, 0, 13)
    assert sorted(b.note for b in own_blocks(tree["Dealer A1"])) == ["keep", "short"]

    saved = cards(page).filter(has_text=f"{iso(today)} – {iso(today + timedelta(days=90))}")
    saved.locator("summary").click()  # a saved card opens for editing when selected
    saved.get_by_role("button", name="Remove this block").click()
    page.get_by_role("button", name="Save").click()
    # Removing a block takes licenses away: the what-if first, saved when confirmed.
    what_if = page.locator("#what-if")
    expect(what_if.get_by_role("table").get_by_role("row").nth(1).get_by_role("cell")).to_have_text(
        [f"{iso(today)} – {iso(today + timedelta(days=90))}", "13", "10", "0"])
    assert sorted(b.note for b in own_blocks(tree["Dealer A1"])) == ["keep", "short"]
    what_if.get_by_role("button", name="Confirm and save").click()
    expect(saved_message(page)).to_be_visible()
    expect(cards(page)).to_have_count(1)
    expect(page.locator("#block-states li")).to_have_text([f"Plus {iso(today)} – no end: active"])
    expect_status(page, "Virtual numbers", 10, 0, 0, 10)
    blocks = own_blocks(tree["Dealer A1"])
    assert [(b.note, quantities(b)) for b in blocks] == [("keep", {"virtual_numbers": 10, "mobile_apps": 4})]


@pytest.fixture
def dealer_with_site_block(tree, operator):
    """Dealer A1 has 10 virtual numbers and 5 apps; Site A1, restricted, holds 8 and 5 of them."""
    dealer_block = restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 10, "mobile_apps": 5})
    restrict_with_block(tree["Site A1"], operator, {"virtual_numbers": 8, "mobile_apps": 5})
    return dealer_block


def test_saved_block_is_raised_but_what_a_sub_group_holds_cannot_be_taken_away(
        company_admin_page, tree, dealer_with_site_block, live_server):
    page = company_admin_page
    block = dealer_with_site_block
    today = services.today()
    open_licenses(page, live_server, tree["Dealer A1"])
    expect_status(page, "Virtual numbers", 10, 8, 0, 2)
    card = cards(page).nth(0)
    expect(card.get_by_label("Virtual numbers", exact=True)).to_be_hidden()  # a saved card starts closed
    expect(card.locator("summary")).to_contain_text("Virtual numbers: 10, Mobile app installs: 5")

    card.locator("summary").click()
    card.get_by_label("Virtual numbers", exact=True).fill("15")
    page.get_by_role("button", name="Save").click()
    expect(saved_message(page)).to_be_visible()
    expect_status(page, "Virtual numbers", 15, 8, 0, 7)
    expect(card.locator("summary")).to_contain_text("Virtual numbers: 15")
    assert quantities(block) == {"virtual_numbers": 15, "mobile_apps": 5}

    # Lowered below what Site A1 holds: refused at the block.
    card.locator("summary").click()
    card.get_by_label("Virtual numbers", exact=True).fill("7")
    page.get_by_role("button", name="Save").click()
    expect(block_error(card)).to_have_text(
        f"Dealer A1's pool has 7 Virtual numbers on {iso(today)}; sub-groups would need 8: 1 short. "
        "Lower these sub-groups' blocks first: Site A1.")
    expect(card.get_by_label("Virtual numbers", exact=True)).to_have_value("7")
    assert quantities(block) == {"virtual_numbers": 15, "mobile_apps": 5}

    # Removed altogether: refused too; the block is still there, still ticked for removal.
    open_licenses(page, live_server, tree["Dealer A1"])
    card.locator("summary").click()
    card.get_by_role("button", name="Remove this block").click()
    page.get_by_role("button", name="Save").click()
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text(f"Dealer A1's pool has 0 Virtual numbers on {iso(today)}; sub-groups would need 8: "
                                   "8 short.")
    expect(errors).to_contain_text(f"Dealer A1's pool has 0 Mobile app installs on {iso(today)}; sub-groups would "
                                   "need 5: 5 short.")
    expect(card.get_by_role("button", name="Remove this block")).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_text("Removed when you save; press again to keep it.")).to_be_visible()
    expect_status(page, "Virtual numbers", 15, 8, 0, 7)
    assert [b.pk for b in own_blocks(tree["Dealer A1"])] == [block.pk]


def test_refusal_to_take_capacity_away_names_the_sub_groups_to_lower_first(
        company_admin_page, tree, dealer_with_site_block, live_server):
    page = company_admin_page
    open_licenses(page, live_server, tree["Dealer A1"])
    card = cards(page).nth(0)
    card.locator("summary").click()
    card.get_by_role("button", name="Remove this block").click()
    page.get_by_role("button", name="Save").click()
    errors = page.locator("#form-errors")
    expect(errors).to_contain_text("Dealer A1's pool has 0 Virtual numbers")
    assert own_blocks(tree["Dealer A1"]) == [dealer_with_site_block]
    expect(errors).to_contain_text("Site A1", timeout=1000)


# --- 6. keyboard only ---------------------------------------------------------------------


def tab_to(page, locator, limit: int = 120) -> None:
    """Press Tab until `locator` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{locator} never got the focus with Tab")


def test_keyboard_only_adds_fills_and_saves_a_block(company_admin_page, tree, live_server):
    page = company_admin_page
    today = services.today()
    open_licenses(page, live_server, tree["Dealer A1"])

    restriction = page.get_by_role("switch", name="Enable restriction")
    tab_to(page, restriction)
    page.keyboard.press("Space")
    expect(restriction).to_be_checked()

    add = page.get_by_role("button", name="Add new license")
    tab_to(page, add)
    page.keyboard.press("Enter")
    expect(cards(page)).to_have_count(1)
    card = cards(page).nth(0)
    expect(card.get_by_label("Kind")).to_be_focused()  # the new card takes the focus

    vn = card.get_by_label("Virtual numbers", exact=True)
    tab_to(page, vn)
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("12")
    page.keyboard.press("Tab")
    apps = card.get_by_label("Mobile app installs", exact=True)
    expect(apps).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("6")
    remote = card.get_by_label("Remote door opening", exact=True)
    tab_to(page, remote)
    page.keyboard.press("Space")
    expect(remote).to_be_checked()

    save = page.get_by_role("button", name="Save")
    tab_to(page, save)
    page.keyboard.press("Space")

    expect(saved_message(page)).to_be_visible()
    expect_status(page, "Virtual numbers", 12, 0, 0, 12)
    expect_status(page, "Mobile app installs", 6, 0, 0, 6)
    expect(page.locator("#block-states li")).to_have_text([f"Plus {iso(today)} – no end: active"])
    (block,) = own_blocks(tree["Dealer A1"])
    assert (block.kind, block.valid_from, block.valid_until) == ("plus", today, None)
    assert quantities(block) == {"virtual_numbers": 12, "mobile_apps": 6, "remote_door_opening": 1}
    assert PoolSettings.objects.get(group=tree["Dealer A1"]).restricted is True


# --- 7. read-only --------------------------------------------------------------------------


def test_concierge_reads_the_status_but_cannot_save(tree, person, operator, browser_login, live_server):
    give_company_pool(tree, operator, until=None)
    dealer = tree["Dealer A1"]
    block = restrict_with_block(dealer, operator, {"virtual_numbers": 10, "mobile_apps": 5})
    concierge = person(Role.CONCIERGE, dealer, email="concierge@test.example")
    page = browser_login(concierge)

    page.goto(f"{live_server.url}/groups/{dealer.pk}/")
    page.get_by_role("link", name="License status").click()
    expect(page).to_have_url(f"{live_server.url}/licenses/groups/{dealer.pk}/")
    expect(page.get_by_role("status")).to_contain_text("You can read this section")
    expect_status(page, "Virtual numbers", 10, 0, 0, 10)
    expect_status(page, "Mobile app installs", 5, 0, 0, 5)
    expect(page.locator("#block-states li")).to_have_text([f"Plus {iso(services.today())} – no end: active"])
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_role("button", name="Add new license")).to_have_count(0)
    expect(page.get_by_role("switch", name="Enable restriction")).to_be_disabled()
    cards(page).nth(0).locator("summary").click()
    expect(cards(page).nth(0).get_by_label("Virtual numbers", exact=True)).to_be_disabled()

    # A hand-made POST (with the page's CSRF token) is refused.
    token = page.locator("#licenses-form input[name=csrfmiddlewaretoken]").get_attribute("value")
    response = page.request.post(
        f"{live_server.url}/licenses/groups/{dealer.pk}/",
        form={"csrfmiddlewaretoken": token, "blocks-TOTAL_FORMS": "1", "blocks-INITIAL_FORMS": "1",
              "blocks-MIN_NUM_FORMS": "0", "blocks-MAX_NUM_FORMS": "100", "blocks-0-id": str(block.pk),
              "blocks-0-kind": "plus", "blocks-0-valid_from": iso(services.today()),
              "blocks-0-f_virtual_numbers": "1000", "blocks-0-f_mobile_apps": "5",
              "restricted": "on", "reminder_days": "14", "recurrence": "once"},
        headers={"Referer": page.url})
    assert response.status == 403, response.text()
    assert "CSRF verification failed" not in response.text()  # refused for the role, not for a missing token
    assert quantities(block) == {"virtual_numbers": 10, "mobile_apps": 5}
    assert PoolSettings.objects.get(group=dealer).reminder_enabled is False
    assert len(own_blocks(dealer)) == 1
