"""axe-core on the dashboard, the reports, a group's history, the notifications, the profile
and an apartment's residents' licenses, in the states a person meets: data in every table,
unread notifications, errors at a field and at a resident's row.

Only violations of impact "serious" or "critical" fail; each is printed with its nodes.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from groups.models import Role
from notifications.models import Notification
from tests.e2e.reports_support import license_landscape, serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_report_pages_have_no_serious_accessibility_violations(tree, person, operator, browser_login, live_server):
    license_landscape(tree, operator, person)
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", name="Carla Admin")
    for title in ("Licenses of Dealer A1 end in 40 days", "Licenses of Site A1 end in 10 days"):
        Notification.objects.create(user=admin, group=tree["Dealer A1"], kind="expiring", title=title,
                                    body="Hello Carla Admin,\n\nthese licenses are coming to their end.")
    apartment = tree.apartment("Site A1")
    page = browser_login(admin)
    axe = Axe()
    report: dict[str, list[str]] = {}

    # The dashboard, with every section filled.
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    expect(page.locator("#exhausted-table tbody tr")).to_have_count(1)
    report["dashboard"] = serious_violations(page, axe)

    # The usage report, with a subtree refused at the field and the suggestions filled.
    page.goto(f"{live_server.url}/licenses/reports/usage/?subtree=Nowhere")
    # The field is described by its help and then by the error.
    expect(page.get_by_label("Subtree")).to_have_accessible_description(
        "Type a group's name and pick it: only its pools and those below it. Pick a group from the list.")
    page.get_by_label("Subtree").fill("Site")
    expect(page.locator("#subtree-options option")).to_have_count(2)
    report["usage, refused subtree"] = serious_violations(page, axe)
    page.goto(f"{live_server.url}/licenses/reports/usage/")
    expect(page.locator("#usage-table tbody tr")).to_have_count(12)
    report["usage"] = serious_violations(page, axe)

    # The validity report, with its rows, then with a comparison missing its day.
    page.goto(f"{live_server.url}/licenses/reports/validity/")
    expect(page.get_by_text("5 blocks")).to_be_visible()
    report["validity"] = serious_violations(page, axe)
    page.get_by_label("Is", exact=True).select_option(label="before")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_label("Day", exact=True)).to_have_accessible_description("Enter the day to compare with.")
    report["validity, missing day"] = serious_violations(page, axe)

    # A group's history, filtered.
    page.goto(f"{live_server.url}/licenses/groups/{tree['Dealer A1'].pk}/history/?subject=block")
    expect(page.locator("#history tbody tr").first).to_contain_text("Block #")
    report["history"] = serious_violations(page, axe)

    # The notifications, unread.
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("#notifications > li")).to_have_count(2)
    report["notifications"] = serious_violations(page, axe)

    # The profile.
    page.goto(f"{live_server.url}/profile/")
    expect(page.get_by_label("Name")).to_have_value("Carla Admin")
    report["profile"] = serious_violations(page, axe)

    # The residents' licenses of an apartment, after a refused save.
    page.goto(f"{live_server.url}/licenses/groups/{apartment.pk}/residents/")
    page.get_by_label("Virtual numbers · Rita Resident").fill("500")
    page.get_by_role("button", name="Save all").click()
    expect(page.get_by_role("alert")).to_contain_text("lower it by")
    report["apartment residents"] = serious_violations(page, axe)

    failures = {name: found for name, found in report.items() if found}
    assert not failures, "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in failures.items())
