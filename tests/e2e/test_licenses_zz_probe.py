import pytest
from playwright.sync_api import expect

from groups.models import Role
from tests.e2e.licenses_support import cards, fill_card, give_company_pool, open_licenses, restrict_with_block

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_probe(tree, person, operator, browser_login, live_server):
    give_company_pool(tree, operator, until=None)
    dealer = tree["Dealer A1"]
    restrict_with_block(dealer, operator, {"virtual_numbers": 10, "mobile_apps": 5})
    restrict_with_block(tree["Site A1"], operator, {"virtual_numbers": 8, "mobile_apps": 5})
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", is_staff=True)
    page = browser_login(admin)
    open_licenses(page, live_server, dealer)
    page.get_by_label("Reminder of the end of the license period").check()
    page.get_by_label("Days before expiry").fill("0")
    page.get_by_label("Reminder of the end of the license period").uncheck()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    print("ALERTS1", page.get_by_role("alert").all_inner_texts(), page.locator(".invalid-feedback").all_inner_texts(), page.locator(".invalid-feedback").first.is_visible())
    open_licenses(page, live_server, dealer)
    c = cards(page).nth(0)
    c.locator("summary").click()
    c.get_by_label("Remove this block").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    print("ALERTS2", page.get_by_role("alert").all_inner_texts())
    print("OPEN", c.get_attribute("open"), c.get_by_label("Remove this block").is_checked())
    open_licenses(page, live_server, dealer)
    c.locator("summary").click()
    c.get_by_label("Virtual numbers", exact=True).fill("15")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    print("ALERTS3", page.get_by_role("alert").all_inner_texts(), page.locator("#status-table").inner_text())
    c.locator("summary").click()
    c.get_by_label("Virtual numbers", exact=True).fill("7")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    print("ALERTS4", page.get_by_role("alert").all_inner_texts(), c.locator(".block-errors").all_inner_texts())
