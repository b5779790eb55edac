import pytest

from groups.models import Role
from licenses import services
from licenses.models import Grant
from tests.licenses.helpers import block, company_pool, give


@pytest.fixture
def apartment_with_residents(tree, operator, person):
    today = services.today()
    company_pool(tree, actor=operator, start=today, switches=["guest_access"])
    give(tree["Dealer A1"], block(6, 6, start=today, days=100, switches=["guest_access"]), actor=operator, on=today)
    apartment = tree.apartment("Site A1")
    people = [person(Role.RESIDENT, apartment, email=f"res{i}@test.example") for i in range(3)]
    return apartment, people


def post_bulk(client, apartment, people, values):
    data = {}
    for user, (vn, apps, guest) in zip(people, values, strict=True):
        data[f"u{user.pk}-f_virtual_numbers"] = vn
        data[f"u{user.pk}-f_mobile_apps"] = apps
        data[f"u{user.pk}-f_ukey2_keys"] = 0
        if guest:
            data[f"u{user.pk}-f_guest_access"] = "on"
    return client.post(f"/licenses/groups/{apartment.pk}/residents/", data)


def test_bulk_grants_save_all_or_nothing(apartment_with_residents, client, person, tree):
    apartment, people = apartment_with_residents
    admin = person(Role.SITE_ADMIN, tree["Site A1"], email="site-admin@test.example")
    client.force_login(admin)
    response = post_bulk(client, apartment, people, [(2, 1, True), (2, 2, False), (2, 0, True)])
    assert response.status_code == 302
    assert Grant.objects.filter(group=apartment).count() == 3
    # Asking for more than the pool for the last resident refuses everything, at that resident's row.
    response = post_bulk(client, apartment, people, [(1, 1, True), (2, 2, False), (5, 0, True)])
    page = response.content.decode()
    assert response.status_code == 200
    assert "Dealer A1 has 1 Virtual numbers free on" in page and "this asks for 3: lower it by 2." in page
    first = Grant.objects.get(user=people[0])
    assert first.quantities.get(feature__code="virtual_numbers").quantity == 2  # unchanged


def test_concierge_reads_but_cannot_post(apartment_with_residents, client, person, tree):
    apartment, people = apartment_with_residents
    concierge = person(Role.CONCIERGE, tree["Site A1"], email="c@test.example")
    client.force_login(concierge)
    page = client.get(f"/licenses/groups/{apartment.pk}/residents/").content.decode()
    assert all(p.display_name in page for p in people)
    assert "Save all" not in page
    assert post_bulk(client, apartment, people, [(1, 1, False)] * 3).status_code == 403


def test_other_dealer_gets_404(apartment_with_residents, client, person, tree):
    apartment, _people = apartment_with_residents
    other = person(Role.SITE_ADMIN, tree["Dealer A2"], email="a2@test.example")
    client.force_login(other)
    assert client.get(f"/licenses/groups/{apartment.pk}/residents/").status_code == 404
