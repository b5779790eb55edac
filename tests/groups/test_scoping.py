import pytest

from groups.models import Role
from groups.scoping import (
    can_edit_licenses,
    can_manage,
    can_view,
    groups_licensable_by,
    groups_visible_to,
    scope_top_groups,
)


def names(qs):
    return set(qs.values_list("name", flat=True))


def test_role_reaches_the_subtree_only(tree, person):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"])
    visible = names(groups_visible_to(dealer))
    assert "Dealer A1" in visible and "Site A1" in visible
    assert not visible & {"Company A", "Dealer A2", "Site A2", "Company B", "Site B"}
    assert can_manage(dealer, tree["Site A1"]) and not can_manage(dealer, tree["Site A2"])
    assert not can_view(dealer, tree["Company A"])


def test_nobody_raises_their_own_ceiling(tree, person):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"])
    assert not can_edit_licenses(dealer, tree["Dealer A1"])
    assert can_edit_licenses(dealer, tree["Site A1"])
    assert "Dealer A1" not in names(groups_licensable_by(dealer))


def test_concierge_sees_but_does_not_manage(tree, person):
    concierge = person(Role.CONCIERGE, tree["Site A1"])
    assert can_view(concierge, tree["Site A1"])
    assert not can_manage(concierge, tree["Site A1"])
    assert not can_edit_licenses(concierge, tree.apartment("Site A1"))


def test_resident_sees_no_tree(tree, person):
    resident = person(Role.RESIDENT, tree.apartment("Site A1"))
    assert not groups_visible_to(resident).exists()


def test_server_admin_sees_every_company(tree, operator):
    assert {"Company A", "Company B"} <= names(scope_top_groups(operator))
    assert can_edit_licenses(operator, tree["Company A"])


def test_several_roles_union_and_nested_ones_open_once(tree, person):
    user = person(Role.SITE_ADMIN, tree["Dealer A1"])
    from tests.factories import MembershipFactory

    MembershipFactory(user=user, group=tree["Site A1"], role=Role.CONCIERGE)
    MembershipFactory(user=user, group=tree["Site B"], role=Role.CONCIERGE)
    assert names(scope_top_groups(user)) == {"Dealer A1", "Site B"}


def test_inactive_user_sees_nothing(tree, person):
    user = person(Role.COMPANY_ADMIN, tree["Company A"], is_active=False)
    assert not groups_visible_to(user).exists()


@pytest.mark.parametrize("url", ["/groups/{pk}/", "/groups/{pk}/children/", "/groups/{pk}/edit/", "/groups/{pk}/move/",
                                 "/groups/{pk}/delete/", "/groups/{pk}/generate/", "/groups/{pk}/members/",
                                 "/licenses/groups/{pk}/", "/licenses/groups/{pk}/devices/",
                                 "/licenses/groups/{pk}/history/"])
def test_other_dealers_groups_answer_404(tree, person, client, url):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"])
    client.force_login(dealer)
    for target in ("Dealer A2", "Site A2", "Company B", "Company A"):
        response = client.get(url.format(pk=tree[target].pk))
        assert response.status_code == 404, (url, target)
        assert target.encode() not in response.content


def test_search_and_autocomplete_stay_in_scope(tree, person, client):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"])
    client.force_login(dealer)
    page = client.get("/groups/?q=Site").content.decode()
    assert "Site A1" in page and "Site A2" not in page and "Site B" not in page
    data = client.get("/groups/autocomplete/?q=Site").json()
    assert {r["text"] for r in data["results"]} == {"Site A1"}


def test_forms_refuse_a_parent_from_another_tree(tree, person, client):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"])
    client.force_login(dealer)
    building = tree["Site A1"].get_children().first()
    response = client.post(f"/groups/{building.pk}/move/", {"new_parent": tree["Site A2"].pk})
    assert response.status_code == 200
    assert "not in your scope" in response.content.decode()
    building.refresh_from_db()
    assert building.parent_id == tree["Site A1"].pk
    response = client.post(f"/groups/new/?parent={tree['Site A2'].pk}", {"name": "X", "kind": "building"})
    assert response.status_code == 404
