"""axe-core on the remaining pages a person uses: log in, the group forms, move, delete,
generate, people, devices with an error, and a resident's My licenses."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from groups.models import Role
from licenses import services
from tests.e2e.reports_support import serious_violations
from tests.licenses.helpers import block, give

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_forms_have_no_serious_accessibility_violations(tree, person, operator, browser_login, live_server, page):
    axe = Axe()
    report: dict[str, list[str]] = {}
    page.goto(f"{live_server.url}/login/")
    report["login"] = serious_violations(page, axe)

    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example")
    browser_login(admin)
    site = tree["Site A1"]
    building = site.get_children().first()
    pages = {
        "tree": "/groups/",
        "group with its rows below": f"/groups/{site.pk}/",
        "history": f"/licenses/groups/{site.pk}/history/",
        "new group, refused": f"/groups/new/?parent={site.pk}",
        "edit group": f"/groups/{building.pk}/edit/",
        "move": f"/groups/{building.pk}/move/",
        "delete": f"/groups/{building.pk}/delete/",
        "generate": f"/groups/{site.pk}/generate/",
        "people": f"/groups/{site.pk}/members/",
        "devices": f"/licenses/groups/{site.pk}/devices/",
    }
    for name, url in pages.items():
        page.goto(live_server.url + url)
        expect(page.locator("main h1")).to_be_visible()
        if name == "new group, refused":
            page.get_by_label("Name").fill("   ")
            page.locator("main").get_by_role("button", name="Save").click()
            expect(page.get_by_text("This field is required.")).to_be_visible()
        report[name] = serious_violations(page, axe)

    today = services.today()
    give(tree["Dealer A1"], block(5, 5, start=today, days=30), actor=operator, on=today)
    apartment = tree.apartment("Site A1")
    resident = person(Role.RESIDENT, apartment, email="res@test.example")
    services.grant_set(group=apartment, user=resident, quantities={"virtual_numbers": 1}, actor=operator)
    page.context.clear_cookies()
    browser_login(resident)
    expect(page.get_by_role("heading", name="My licenses")).to_be_visible()
    report["my licenses"] = serious_violations(page, axe)
    assert not any(report.values()), report
