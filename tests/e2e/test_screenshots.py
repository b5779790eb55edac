"""Pictures of the pages people use, at a laptop's and a phone's width, in English and Ukrainian:
`make screenshots` writes them to docs/screenshots/ (the suite runs this too, into a temporary
folder, so the pages they show keep rendering)."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from groups.models import Membership, Role
from licenses import services
from tests.e2e.licenses_support import cards, dealer_and_site_pools, fill_card
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"1366x768": (1366, 768), "390x844": (390, 844)}


@pytest.fixture
def folder(tmp_path) -> Path:
    out = Path(os.environ.get("SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def shoot(page, folder: Path, name: str) -> None:
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)
        path = folder / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 5000, f"{path} looks empty"


def test_the_pages_people_use(tree, person, operator, browser_login, live_server, folder):
    today = dealer_and_site_pools(tree, operator)
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", is_staff=True, name="Olena")
    residents = []
    for name, email in (("Rita Resident", "rita@test.example"), ("Petro Resident", "petro@test.example")):
        resident = UserFactory(email=email, name=name)
        apartment = tree.apartment("Site A1")
        Membership.objects.create(user=resident, group=apartment, role=Role.RESIDENT)
        services.grant_set(group=apartment, user=resident, quantities={"virtual_numbers": 2, "mobile_apps": 1},
                           actor=operator)
        residents.append(resident)
    page = browser_login(admin)

    page.goto(f"{live_server.url}/groups/")
    page.get_by_role("button", name="Open Company A").click()
    page.get_by_role("button", name="Open Dealer A1").click()
    expect(page.get_by_role("link", name="Site A1", exact=True)).to_be_visible()
    shoot(page, folder, "tree")

    page.goto(f"{live_server.url}/groups/{tree['Dealer A1'].pk}/edit/")
    expect(page.get_by_role("navigation", name="Sections of Dealer A1")).to_be_visible()
    shoot(page, folder, "edit-general")

    page.goto(f"{live_server.url}/licenses/groups/{tree['Dealer A1'].pk}/")
    page.get_by_role("button", name="Add new license").click()
    fill_card(cards(page).last, vn=1000, apps=10, valid_until=today + timedelta(days=40))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-errors")).to_be_visible()
    shoot(page, folder, "edit-licenses-errors")
    # The message under the refused quantity does not push the other inputs out of line.
    page.set_viewport_size({"width": 1366, "height": 768})
    tops = {name: page.locator(f"[name=blocks-1-f_{name}]").bounding_box()["y"]
            for name in ("virtual_numbers", "mobile_apps", "ukey2_keys")}
    assert max(tops.values()) - min(tops.values()) < 2, tops
    cards(page).last.locator("[name=blocks-1-f_virtual_numbers]").scroll_into_view_if_needed()
    page.screenshot(path=str(folder / "edit-licenses-errors-quantities-1366x768.png"))

    # Lowering Site A1's block: the what-if (Petro's grant, the newer, would be suspended).
    page.goto(f"{live_server.url}/licenses/groups/{tree['Site A1'].pk}/")
    cards(page).first.locator("summary").click()
    fill_card(cards(page).first, vn=3, apps=3)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#what-if-suspensions")).to_contain_text("Petro Resident")
    shoot(page, folder, "edit-licenses-what-if")

    page.set_viewport_size({"width": 1366, "height": 768})
    page.locator("#language-switch").select_option("uk")
    page.get_by_role("button", name="Switch").click()
    page.goto(f"{live_server.url}/groups/")
    shoot(page, folder, "tree-uk")
    nav = page.get_by_role("navigation", name="Основна навігація")
    page.set_viewport_size({"width": 1366, "height": 768})
    box = nav.bounding_box()
    assert box["height"] < 80, f"the navigation bar wraps at 1366 px in Ukrainian ({box['height']} px high)"

    # The Licenses form in Ukrainian: the long mobile-app label keeps its input in line.
    page.goto(f"{live_server.url}/licenses/groups/{tree['Site A1'].pk}/")
    cards(page).first.locator("summary").click()
    shoot(page, folder, "edit-licenses-uk")
    for width, height in SIZES.values():
        page.set_viewport_size({"width": width, "height": height})
        tops = {name: page.locator(f"[name=blocks-0-f_{name}]").bounding_box()["y"]
                for name in ("virtual_numbers", "mobile_apps", "ukey2_keys")}
        if width >= 768:  # side by side there; stacked on a phone
            assert max(tops.values()) - min(tops.values()) < 2, f"inputs out of line at {width} px: {tops}"

    page.context.clear_cookies()
    page = browser_login(residents[0])
    page.goto(f"{live_server.url}/licenses/mine/")
    expect(page.get_by_role("heading", name="My licenses")).to_be_visible()
    shoot(page, folder, "my-licenses")
