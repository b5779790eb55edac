"""The Django admin, tried from the outside: scoped like the web UI, refusing what the services refuse."""

from datetime import timedelta

import pytest

from groups.models import Group, Membership, Role
from licenses import services
from licenses.models import Device, LicenseBlock
from tests.licenses.helpers import block, company_pool, give


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
    company_pool(tree, actor=operator, start=services.today())
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
    assert "Company A has 100 Virtual numbers free on" in response.content.decode(), _debug_errors(response.content.decode())
    assert "this asks for 1000: lower it by 900." in response.content.decode()
    assert not LicenseBlock.objects.filter(group=dealer).exists()
    response = post(40)
    assert response.status_code == 302
    saved = LicenseBlock.objects.get(group=dealer)
    assert saved.quantities.get(feature__code="virtual_numbers").quantity == 40
    assert saved.history.first().history_user == operator


def test_dealer_cannot_edit_own_licenses_in_the_admin(tree, staff_dealer, operator, client):
    """The dealer's own block is shown, not editable; a complete POST that raises it changes nothing."""
    today = services.today()
    company_pool(tree, actor=operator, start=today)
    dealer = tree["Dealer A1"]
    give(dealer, block(10, 5, start=today, days=30), actor=operator, on=today)
    saved = LicenseBlock.objects.get(group=dealer)
    client.force_login(staff_dealer)
    page = client.get(f"/admin/groups/group/{dealer.pk}/change/").content.decode()
    assert str(saved) in page  # the block is listed ...
    assert 'name="license_blocks-0-f_virtual_numbers"' not in page  # ... with no field to change it
    response = client.post(f"/admin/groups/group/{dealer.pk}/change/", {
        "name": dealer.name, "kind": dealer.kind, "number": "", "description": "", "parent": dealer.parent_id,
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "license_blocks-TOTAL_FORMS": "1", "license_blocks-INITIAL_FORMS": "1",
        "license_blocks-0-id": saved.pk, "license_blocks-0-group": dealer.pk, "license_blocks-0-kind": "plus",
        "license_blocks-0-valid_from": today.isoformat(),
        "license_blocks-0-valid_until": (today + timedelta(days=29)).isoformat(), "license_blocks-0-note": "",
        "license_blocks-0-f_virtual_numbers": "90", "license_blocks-0-f_mobile_apps": "5",
        "license_blocks-0-f_ukey2_keys": "0"})
    assert response.status_code == 302  # the group saved; the read-only block ignored
    assert saved.quantities.get(feature__code="virtual_numbers").quantity == 10


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


def test_history_record_is_read_only_even_for_the_operator(tree, operator, client):
    client.force_login(operator)
    site = tree["Site A1"]
    record = site.history.first()
    url = f"/admin/groups/group/{site.pk}/history/{record.history_id}/"
    response = client.post(url, {"name": "Reverted", "kind": "site", "parent": tree["Dealer A2"].pk})
    assert response.status_code == 405
    site.refresh_from_db()
    assert (site.name, site.parent_id) == ("Site A1", tree["Dealer A1"].pk)
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Site A1" in body and "<form" not in body.split('id="content"')[1]


def test_history_record_outside_scope_answers_404_and_shows_nothing(tree, staff_dealer, client):
    """Finding 1 of the isolation review: the record form answered any staff user, for any object."""
    client.force_login(staff_dealer)
    for name in ("Company B", "Dealer A2", "Company A"):
        group = tree[name]
        record = group.history.first()
        url = f"/admin/groups/group/{group.pk}/history/{record.history_id}/"
        for response in (client.get(url), client.post(url, {"name": "Taken", "kind": group.kind})):
            assert response.status_code == 404, (name, response.status_code)
            assert name.encode() not in response.content
        group.refresh_from_db()
        assert group.name == name


def test_history_record_of_an_in_scope_object_names_nothing_above_scope(tree, staff_dealer, client):
    client.force_login(staff_dealer)
    dealer = tree["Dealer A1"]
    record = dealer.history.first()
    body = client.get(f"/admin/groups/group/{dealer.pk}/history/{record.history_id}/").content.decode()
    assert "Dealer A1" in body and "Company A" not in body


def test_people_inline_refuses_a_user_from_outside_scope(tree, person, client):
    """Finding 2: the inline's user field took any id, so anyone's account could be pulled in."""
    admin_b = person(Role.COMPANY_ADMIN, tree["Company B"], email="admin-b@test.example", is_staff=True)
    admin_a = person(Role.COMPANY_ADMIN, tree["Company A"], email="admin-a@test.example", is_staff=True)
    client.force_login(admin_a)
    company = tree["Company A"]
    response = client.post(f"/admin/groups/group/{company.pk}/change/", {
        "name": company.name, "kind": company.kind, "number": "", "description": "",
        "memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "1",
        "memberships-0-id": Membership.objects.get(user=admin_a).pk, "memberships-0-group": company.pk,
        "memberships-1-user": admin_b.pk, "memberships-1-role": "company_admin", "memberships-1-group": company.pk,
        "license_blocks-TOTAL_FORMS": "0", "license_blocks-INITIAL_FORMS": "0"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Membership.objects.filter(user=admin_b, group=company).exists()
    assert "admin-b@test.example" not in response.content.decode()


def test_users_admin_works_for_a_company_administrator(tree, company_admin, person, client):
    """Finding 3: every page of the Users admin answered 500 to staff who are not superusers."""
    inside = person(Role.CONCIERGE, tree["Site A1"], email="inside@test.example")
    outside = person(Role.CONCIERGE, tree["Site B"], email="outside@test.example")
    client.force_login(company_admin)
    page = client.get("/admin/groups/user/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "inside@test.example" in body and "company-a@test.example" in body
    assert "outside@test.example" not in body and "operator@test.example" not in body
    assert client.get(f"/admin/groups/user/{inside.pk}/change/").status_code == 200
    for suffix in ("change/", "history/", "password/", "delete/"):
        assert client.get(f"/admin/groups/user/{outside.pk}/{suffix}").status_code == 404, suffix
    found = client.get("/admin/autocomplete/", {"app_label": "groups", "model_name": "membership",
                                                "field_name": "user", "term": "test.example"}).json()
    emails = {r["text"] for r in found["results"]}
    assert any("inside@test.example" in e for e in emails)
    assert not any("outside@test.example" in e or "operator@" in e for e in emails)


def test_company_administrator_cannot_make_anyone_staff(tree, company_admin, person, client):
    inside = person(Role.CONCIERGE, tree["Site A1"], email="inside@test.example")
    client.force_login(company_admin)
    response = client.post(f"/admin/groups/user/{inside.pk}/change/", {
        "email": inside.email, "name": "x", "language": "en", "is_active": "on", "is_staff": "on",
        "is_superuser": "on"})
    assert response.status_code == 403
    inside.refresh_from_db()
    assert not inside.is_staff and not inside.is_superuser


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
