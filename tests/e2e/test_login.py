import pytest
from playwright.sync_api import expect

from groups.models import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_dealer_logs_in_sees_own_tree_and_logs_out(tree, person, browser_login, live_server):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="d@test.example")
    page = browser_login(dealer)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()  # the landing page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    expect(page.get_by_role("heading", name="Groups")).to_be_visible()
    tree_box = page.locator("#tree")
    expect(tree_box.get_by_role("link", name="Dealer A1")).to_be_visible()
    expect(page.get_by_text("Dealer A2")).to_have_count(0)
    expect(page.get_by_text("Company B")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/login/")


def test_pages_ask_for_nothing_that_is_missing_the_icon_included(tree, person, page, browser_login, live_server):
    """No request of a page (stylesheets, scripts, the site icon) answers 4xx or 5xx."""
    failed = []
    page.on("response", lambda response: failed.append((response.status, response.url))
            if response.status >= 400 else None)
    page.goto(f"{live_server.url}/login/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon.endswith("favicon.svg")
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="icon@test.example")
    browser_login(dealer)
    page.goto(f"{live_server.url}/groups/")
    assert page.request.get(f"{live_server.url}{icon}").status == 200
    assert failed == []


def test_wrong_password_is_refused_with_a_message(tree, person, browser_login):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="d2@test.example")
    page = browser_login(dealer, password="wrong")
    expect(page.get_by_text("Please enter a correct email")).to_be_visible()


def test_repeated_failures_lock_the_login_and_the_page_says_for_how_long(tree, person, browser_login, settings,
                                                                         screenshot):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"], email="d3@test.example")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        page = browser_login(dealer, password="wrong")
        expect(page.get_by_text("Please enter a correct email")).to_be_visible()
    page = browser_login(dealer, password="wrong")
    lockout = page.get_by_role("alert")
    expect(lockout).to_contain_text("Too many failed attempts for this account from this address")
    expect(lockout).to_contain_text("15 minutes")
    # The right password does not get through while the lockout lasts.
    page = browser_login(dealer)
    expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    screenshot(page, "login-lockout")
