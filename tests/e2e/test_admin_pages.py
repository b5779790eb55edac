"""The Django admin as a company administrator uses it: their own tree, read-only history, people."""

import pytest
from playwright.sync_api import expect

from groups.models import Role
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _admin_login(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_a_company_administrator_reads_a_history_record_and_cannot_revert_it(tree, person, page, live_server,
                                                                            screenshot):
    admin_a = person(Role.COMPANY_ADMIN, tree["Company A"], email="admin-a@test.example", is_staff=True)
    person(Role.COMPANY_ADMIN, tree["Company B"], email="admin-b@test.example", is_staff=True)
    _admin_login(page, live_server, admin_a)
    page.goto(f"{live_server.url}/admin/groups/group/")
    rows = page.locator("#result_list tbody")
    expect(rows).to_contain_text("Dealer A1")
    expect(rows).not_to_contain_text("Company B")
    page.get_by_role("link", name="Site A1").click()
    page.get_by_role("link", name="History").click()
    page.locator("#change-history a").first.click()
    record = page.locator("#history-record")
    expect(record).to_contain_text("Site A1")
    expect(page.get_by_text("History is read-only")).to_be_visible()
    expect(page.get_by_role("button", name="Revert")).to_have_count(0)
    expect(page.locator("#content form")).to_have_count(0)
    screenshot(page, "admin-history-record", full_page=True)
    # People of the company are listed; people of another company are not.
    page.goto(f"{live_server.url}/admin/groups/user/")
    expect(page.locator("#result_list")).to_contain_text("admin-a@test.example")
    expect(page.locator("#result_list")).not_to_contain_text("admin-b@test.example")
    # Another company's record answers "not found".
    other = tree["Company B"]
    response = page.goto(f"{live_server.url}/admin/groups/group/{other.pk}/history/{other.history.first().history_id}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Company B")
    screenshot(page, "not-found")
