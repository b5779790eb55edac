"""The Django admin, tried from the outside: scoped like the web UI, refusing what the services refuse."""

from datetime import timedelta

import pytest

from groups.models import Group, Membership, Role
from licenses import services
from licenses.models import Device, LicenseBlock
from tests.licenses.helpers import block, give


@pytest.fixture
def staff_dealer(tree, person):
    return person(Role.SITE_ADMIN, tree["Dealer A1"], email="staff-a1@test.example", is_staff=True)


def test_company_admin_sees_only_their_tree(tree, company_admin, client):
    client.force_login(company_admin)
    page = client.get("/admin/groups/group/?all=").content.decode()
    assert "Dealer A1" in page and "Site A2" in page
    assert "Company B" not in page and "Site B" not in page


@pytest.mark.parametrize("path", ["/admin/groups/group/{pk}/change/", "/admin/groups/group/{pk}/history/",
                                  "/admin/groups/group/{pk}/delete/"])
def test_other_trees_answer_404_in_the_admin(tree, staff_dealer, client, path):
    client.force_login(staff_dealer)
    for name in ("Dealer A2", "Company B", "Company A"):
        response = client.get(path.format(pk=tree[name].pk))
        assert response.status_code == 404, (path, name)
        assert name.encode() not in response.content


def test_admin_autocomplete_is_scoped(tree, staff_dealer, client):
    client.force_login(staff_dealer)
    response = client.get("/admin/autocomplete/", {"app_label": "licenses", "model_name": "device",
                                                   "field_name": "group", "term": "Site"})
    names = {r["text"] for r in response.json()["results"]}
    assert "Site A1" in names and "Site A2" not in names and "Site B" not in names


def test_admin_add_refuses_what_the_form_refuses(tree, staff_dealer, client):
    client.force_login(staff_dealer)
    apartment = tree.apartment("Site A1")
    before = Group.objects.count()
    response = client.post("/admin/groups/group/add/", {
        "name": "Closet", "kind": "custom", "number": "", "description": "", "parent": apartment.pk,
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "license_blocks-TOTAL_FORMS": "0", "license_blocks-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert Group.objects.count() == before
    response = client.post("/admin/groups/group/add/", {
        "name": "Sneaky", "kind": "site", "parent": tree["Dealer A2"].pk,
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "license_blocks-TOTAL_FORMS": "0", "license_blocks-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Group.objects.filter(name="Sneaky").exists()


def test_admin_move_across_companies_is_refused(tree, operator, client):
    client.force_login(operator)
    building = tree["Site A1"].get_children().first()
    response = client.post(f"/admin/groups/group/{building.pk}/change/", {
        "name": building.name, "kind": "building", "number": building.number, "description": "",
        "parent": tree["Site B"].pk,
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "license_blocks-TOTAL_FORMS": "0", "license_blocks-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and "never cross companies" in response.content.decode()
    building.refresh_from_db()
    assert building.parent_id == tree["Site A1"].pk


def test_admin_block_inline_refuses_over_allocation_and_saves_through_the_service(tree, operator, client):
    LicenseBlock.objects.filter(group=tree["Company A"]).delete()
    give(tree["Company A"], block(100, 100, start=services.today(), days=365), actor=operator, on=services.today())
    client.force_login(operator)
    dealer = tree["Dealer A1"]
    today = services.today()
    give(dealer, actor=operator, restricted=True, on=today)

    def post(vn):
        return client.post(f"/admin/groups/group/{dealer.pk}/change/", {
            "name": dealer.name, "kind": dealer.kind, "number": "", "description": "", "parent": dealer.parent_id,
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
            "license_blocks-TOTAL_FORMS": "1", "license_blocks-INITIAL_FORMS": "0",
            "license_blocks-0-kind": "plus", "license_blocks-0-valid_from": today.isoformat(),
            "license_blocks-0-valid_until": (today + timedelta(days=30)).isoformat(), "license_blocks-0-note": "",
            "license_blocks-0-f_virtual_numbers": str(vn), "license_blocks-0-f_mobile_apps": "1",
            "license_blocks-0-f_ukey2_keys": "0"})

    response = post(1000)
    assert response.status_code == 200, response.status_code
    assert "Company A&#x27;s pool has 100 virtual numbers" in response.content.decode(), _debug_errors(response.content.decode())
    assert not LicenseBlock.objects.filter(group=dealer).exists()
    response = post(40)
    assert response.status_code == 302
    saved = LicenseBlock.objects.get(group=dealer)
    assert saved.quantities.get(feature__code="virtual_numbers").quantity == 40
    assert saved.history.first().history_user == operator


def test_dealer_cannot_edit_own_licenses_in_the_admin(tree, staff_dealer, client):
    client.force_login(staff_dealer)
    page = client.get(f"/admin/groups/group/{tree['Dealer A1'].pk}/change/").content.decode()
    assert 'name="license_blocks-TOTAL_FORMS"' not in page or "license_blocks-0-kind" not in page


def test_admin_device_add_goes_through_the_service(tree, staff_dealer, client):
    client.force_login(staff_dealer)
    apartment = tree.apartment("Site A1")
    response = client.post("/admin/licenses/device/add/", {"group": apartment.pk, "serial_number": "ADM-1",
                                                           "model": "AV-01"})
    assert response.status_code == 302
    device = Device.objects.get(serial_number="ADM-1")
    assert LicenseBlock.objects.get(device=device).kind == "basic"
    response = client.post("/admin/licenses/device/add/", {"group": tree.apartment("Site A2").pk,
                                                           "serial_number": "ADM-2", "model": "AV-01"})
    assert response.status_code == 200 and not Device.objects.filter(serial_number="ADM-2").exists()


def test_history_revert_is_disabled(tree, operator, client):
    client.force_login(operator)
    site = tree["Site A1"]
    record = site.history.first()
    response = client.post(f"/admin/groups/group/{site.pk}/history/{record.history_id}/", {"name": "Reverted"})
    assert response.status_code in (403, 404, 302, 200)
    site.refresh_from_db()
    assert site.name == "Site A1"


def test_membership_inline_adds_through_the_service(tree, operator, client, person):
    client.force_login(operator)
    someone = person(Role.CONCIERGE, tree["Site A2"], email="someone@test.example")
    site = tree["Site A1"]
    response = client.post(f"/admin/groups/group/{site.pk}/change/", {
        "name": site.name, "kind": site.kind, "number": "", "description": "", "parent": site.parent_id,
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
        "memberships-0-user": someone.pk, "memberships-0-role": "resident",
        "license_blocks-TOTAL_FORMS": "0", "license_blocks-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and "A resident lives in an apartment." in response.content.decode()
    assert not Membership.objects.filter(user=someone, group=site).exists()


def _debug_errors(html):  # pragma: no cover - a helper for reading failures
    import re

    return re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S)
