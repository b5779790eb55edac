"""The what-if before a change that takes licenses away: what is lost from which day, whose
grants are suspended in which order, which reminders move; nothing changes until confirmed."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from groups.models import Role
from licenses import services
from licenses.models import Grant, LicenseBlock
from tests.e2e.licenses_support import (
    cards,
    fill_card,
    give_company_pool,
    iso,
    open_licenses,
    quantities,
    restrict_with_block,
    saved_message,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lowering(tree, person, operator, browser_login):
    """Dealer A1 holds 20 virtual numbers / 10 app installs for 90 days; two residents of Site A1
    (served by it) hold 8 and then 6 virtual numbers; its company administrator is logged in."""
    give_company_pool(tree, operator, until=None)
    today = services.today()
    block = restrict_with_block(tree["Dealer A1"], operator, {"virtual_numbers": 20, "mobile_apps": 10},
                                until=today + timedelta(days=89))
    flats = list(tree["Site A1"].get_descendants().filter(kind="apartment")[:2])
    grants = []
    for n, (flat, vn) in enumerate(zip(flats, (8, 6), strict=True)):  # the second is the newer
        user = person(Role.RESIDENT, flat, name=f"Resident {n + 1}", email=f"r{n + 1}@test.example")
        grants.append(services.grant_set(group=flat, user=user, quantities={"virtual_numbers": vn}, actor=operator))
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", is_staff=True)
    return browser_login(admin), block, grants, flats, today


def test_lowering_shows_the_what_if_and_saves_only_when_confirmed(lowering, tree, live_server, screenshot):
    page, block, (older, newer), (flat1, flat2), today = lowering
    open_licenses(page, live_server, tree["Dealer A1"])
    card = cards(page).nth(0)
    card.locator("summary").click()
    fill_card(card, vn=10)
    page.get_by_role("button", name="Save").click()

    what_if = page.get_by_role("region", name="Check before saving: this change takes licenses away")
    expect(what_if).to_be_focused()
    expect(what_if).to_contain_text("Nothing has been saved yet.")
    rows = what_if.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(2)
    expect(rows.nth(1).get_by_role("rowheader")).to_have_text("Virtual numbers")
    expect(rows.nth(1).get_by_role("cell")).to_have_text(
        [f"{iso(today)} – {iso(today + timedelta(days=89))}", "20", "10", "8"])
    expect(what_if.locator("#what-if-suspensions li")).to_have_text(
        [re.compile(rf"^Resident 2 \({flat2.name}\) · today · Virtual numbers: 6$")])
    # Nothing changed yet.
    assert quantities(LicenseBlock.objects.get(pk=block.pk))["virtual_numbers"] == 20
    assert not Grant.objects.filter(suspended_at__isnull=False).exists()
    screenshot(page, "licenses-what-if")

    what_if.get_by_role("button", name="Confirm and save").click()
    expect(saved_message(page, "Licenses saved. Suspended grants: 1.")).to_be_visible()
    assert quantities(LicenseBlock.objects.get(pk=block.pk))["virtual_numbers"] == 10
    assert Grant.objects.get(pk=newer.pk).is_suspended and not Grant.objects.get(pk=older.pk).is_suspended


def test_keep_editing_puts_the_what_if_away_and_the_next_save_asks_again(lowering, tree, live_server):
    page, block, _grants, _flats, today = lowering
    open_licenses(page, live_server, tree["Dealer A1"])
    card = cards(page).nth(0)
    card.locator("summary").click()
    fill_card(card, valid_until=today + timedelta(days=29))  # shortening
    page.get_by_role("button", name="Save").click()
    what_if = page.locator("#what-if")
    expect(what_if.get_by_role("table").get_by_role("row").nth(1).get_by_role("cell")).to_have_text(
        [f"{iso(today + timedelta(days=30))} – {iso(today + timedelta(days=89))}", "20", "0", "14"])
    expect(what_if.locator("#what-if-suspensions li")).to_have_count(2)  # both, from the day after the end
    what_if.get_by_role("link", name="Keep editing").click()
    expect(what_if).to_be_hidden()
    # The form still holds what was typed; put the end back: nothing is taken away, saved at once.
    card = cards(page).nth(0)
    expect(card.get_by_label("Valid until")).to_have_value(iso(today + timedelta(days=29)))
    fill_card(card, valid_until=today + timedelta(days=89))
    page.get_by_role("button", name="Save").click()
    expect(saved_message(page)).to_be_visible()
    assert LicenseBlock.objects.get(pk=block.pk).valid_until == today + timedelta(days=89)
