import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from groups import services
from groups.integrity import tree_problems
from groups.models import Group, Role
from groups.services import GenerationPlan


def test_create_child_and_company(operator, db):
    company = services.group_create(parent=None, name="Acme", kind="company", actor=operator)
    site = services.group_create(parent=company, name="Site", kind="site", number="7", actor=operator)
    assert site.parent == company and site.tree_id == company.tree_id and site.number == "7"
    other = services.group_create(parent=None, name="Other", kind="company", actor=operator)
    assert other.tree_id != company.tree_id  # one tree per company
    assert tree_problems(company.tree_id) == []


@pytest.mark.parametrize(
    ("name", "kind", "field"),
    [("", "site", "name"), ("   ", "site", "name"), ("X", "nonsense", "kind"), ("X", "company", "kind")],
)
def test_bad_input_is_refused_at_the_field(tree, operator, name, kind, field):
    before = Group.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.group_create(parent=tree["Site A1"], name=name, kind=kind, actor=operator)
    assert field in exc.value.error_dict
    assert Group.objects.count() == before


def test_apartment_holds_no_child_groups(tree, operator):
    apartment = tree.apartment("Site A1")
    with pytest.raises(ValidationError) as exc:
        services.group_create(parent=apartment, name="Closet", kind="custom", actor=operator)
    assert "parent" in exc.value.error_dict


def test_only_the_server_administrator_creates_companies(tree, company_admin):
    with pytest.raises(PermissionDenied):
        services.group_create(parent=None, name="Mine", kind="company", actor=company_admin)


def test_site_admin_cannot_create_outside_scope(tree, dealer_admin):
    with pytest.raises(PermissionDenied):
        services.group_create(parent=tree["Dealer A2"], name="Sneaky", kind="site", actor=dealer_admin)
    assert not Group.objects.filter(name="Sneaky").exists()


def test_move_inside_company(tree, operator):
    building = tree["Site A1"].get_children().first()
    services.group_move(group=building, new_parent=tree["Site A2"], actor=operator)
    building.refresh_from_db()
    assert building.parent_id == tree["Site A2"].pk
    assert tree_problems(building.tree_id) == []


def test_move_under_own_descendant_is_refused(tree, operator):
    site = tree["Site A1"]
    floor = site.get_descendants().filter(kind="floor").first()
    with pytest.raises(ValidationError) as exc:
        services.group_move(group=site, new_parent=floor, actor=operator)
    assert "new_parent" in exc.value.error_dict


def test_move_across_companies_is_refused(tree, operator):
    building = tree["Site A1"].get_children().first()
    with pytest.raises(ValidationError) as exc:
        services.group_move(group=building, new_parent=tree["Site B"], actor=operator)
    assert "never cross companies" in str(exc.value)
    building.refresh_from_db()
    assert building.parent_id == tree["Site A1"].pk


def test_move_under_apartment_is_refused(tree, operator):
    building = tree["Site A2"].get_children().first()
    with pytest.raises(ValidationError):
        services.group_move(group=building, new_parent=tree.apartment("Site A1"), actor=operator)


def test_move_to_a_parent_outside_scope_is_refused(tree, dealer_admin):
    building = tree["Site A1"].get_children().first()
    with pytest.raises(PermissionDenied):
        services.group_move(group=building, new_parent=tree["Site A2"], actor=dealer_admin)


def test_delete_takes_the_subtree_and_keeps_sets(tree, operator):
    site = tree["Site A1"]
    tree_id = site.tree_id
    summary = services.group_deletion_summary(site)
    assert summary.groups == site.get_descendant_count() + 1
    assert dict(summary.counts)["groups"] == summary.groups
    services.group_delete(group=site, actor=operator)
    assert not Group.objects.filter(name="Site A1").exists()
    assert tree_problems(tree_id) == []


def test_admin_cannot_delete_the_group_they_administer(tree, dealer_admin):
    with pytest.raises(PermissionDenied):
        services.group_delete(group=tree["Dealer A1"], actor=dealer_admin)


@pytest.mark.parametrize("units", [0, 2])
def test_generate_matches_rebuild(tree, operator, units):
    site = tree["Site A2"]
    plan = GenerationPlan(buildings=3, units=units, floors=2, apartments_per_floor=3, building_start=10,
                          apartment_start=101)
    made = services.groups_generate(parent=site, plan=plan, actor=operator)
    assert made == plan.total
    assert tree_problems(site.tree_id) == []
    # mptt's own rebuild must agree with the arithmetic.
    before = dict(Group.objects.filter(tree_id=site.tree_id).values_list("pk", "lft"))
    Group.objects.partial_rebuild(site.tree_id)
    after = dict(Group.objects.filter(tree_id=site.tree_id).values_list("pk", "lft"))
    assert before == after
    first_building = Group.objects.get(parent=site, name="Building 10")
    apartments = first_building.get_descendants().filter(kind="apartment").order_by("lft")
    assert [a.number for a in apartments[:2]] == ["101", "102"]
    assert apartments.count() == max(units, 1) * 2 * 3


def test_generate_refuses_bad_pattern_and_huge_plans(tree, operator):
    with pytest.raises(ValidationError) as exc:
        services.groups_generate(parent=tree["Site A1"], plan=GenerationPlan(1, 0, 1, 1, building_pattern="B {x}"),
                                 actor=operator)
    assert "building_pattern" in exc.value.error_dict
    with pytest.raises(ValidationError):
        services.groups_generate(parent=tree["Site A1"], plan=GenerationPlan(1000, 100, 100, 100), actor=operator)


def test_roles_fit_the_group_kind(tree, operator, person):
    user = person(Role.CONCIERGE, tree["Site A1"])
    with pytest.raises(ValidationError):
        services.membership_add(group=tree["Site A1"], user=user, role=Role.RESIDENT, actor=operator)
    with pytest.raises(ValidationError):
        services.membership_add(group=tree["Site A1"], user=user, role=Role.COMPANY_ADMIN, actor=operator)
    with pytest.raises(ValidationError):
        services.membership_add(group=tree["Site A1"], user=user, role=Role.CONCIERGE, actor=operator)  # twice


def test_invite_creates_person_and_mails_them(tree, dealer_admin, mailoutbox):
    membership = services.user_invite(email="New@Example.com", name="New", language="uk", group=tree["Site A1"],
                                      role=Role.CONCIERGE, actor=dealer_admin)
    assert membership.user.email == "new@example.com"
    assert not membership.user.has_usable_password()
    assert len(mailoutbox) == 1 and "/password/reset/" in mailoutbox[0].body


def test_history_records_actor(tree, operator):
    site = tree["Site A1"]
    services.group_update(group=site, name="Renamed", kind="site", actor=operator)
    record = site.history.first()
    assert record.name == "Renamed" and record.history_user == operator


def test_an_invited_person_chooses_a_password_from_the_mail_and_logs_in(tree, dealer_admin, mailoutbox, client):
    import re

    services.user_invite(email="newbie@example.com", name="Newbie", language="en", group=tree["Site A1"],
                         role=Role.CONCIERGE, actor=dealer_admin)
    link = re.search(r"http://[^/]+(/password/reset/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and "new_password1" in form_page.content.decode()
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": "A-long-pass-2026!",
                                                             "new_password2": "A-long-pass-2026!"}, follow=True)
    assert "Done." in response.content.decode()
    logged_in = client.post("/login/", {"username": "newbie@example.com", "password": "A-long-pass-2026!"})
    assert logged_in.status_code == 302 and client.session.get("_auth_user_id")
    assert "This link is no longer valid." in client.get(link, follow=True).content.decode()
