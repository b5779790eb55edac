"""Each role's navigation holds only what can hold something for them, and read-only pages say so."""

import pytest
from playwright.sync_api import expect

from groups.models import Membership, Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STAFF_MENUS = ["Dashboard", "Groups", "Usage", "Validity"]


def menu(page):
    return page.get_by_role("navigation", name="Main")


def test_a_resident_sees_only_my_licenses(tree, person, browser_login):
    resident = person(Role.RESIDENT, tree.apartment("Site A1"), email="tenant@test.example")
    page = browser_login(resident)
    expect(page.get_by_role("heading", level=1)).to_contain_text("My licenses")
    expect(menu(page).get_by_role("link", name="My licenses")).to_be_visible()
    for name in STAFF_MENUS:
        expect(menu(page).get_by_role("link", name=name, exact=True)).to_have_count(0)


def test_a_concierge_sees_the_groups_and_reads_licenses_as_group_not_edit(tree, person, browser_login,
                                                                           live_server):
    concierge = person(Role.CONCIERGE, tree["Site A1"], email="porter@test.example")
    page = browser_login(concierge)
    for name in STAFF_MENUS:
        expect(menu(page).get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(menu(page).get_by_role("link", name="My licenses")).to_have_count(0)
    page.goto(f"{live_server.url}/licenses/groups/{tree['Site A1'].pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Group → Licenses")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Edit group")


def test_someone_who_is_both_sees_both(tree, person, browser_login):
    both = person(Role.SITE_ADMIN, tree["Dealer A1"], email="both@test.example")
    Membership.objects.create(user=both, group=tree.apartment("Site A2"), role=Role.RESIDENT)
    page = browser_login(both)
    for name in [*STAFF_MENUS, "My licenses"]:
        expect(menu(page).get_by_role("link", name=name, exact=True)).to_be_visible()
