"""The group pages, clicked through as the people who use them would (Playwright + live_server)."""

import json
import re
from collections import defaultdict

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import Page, expect

from groups import services as group_services
from groups.integrity import tree_problems
from groups.models import Group, Membership, Role, User
from licenses import services as license_services
from licenses.models import Device, LicenseBlock
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


# --- helpers ----------------------------------------------------------------------------


def subtree_size_by_parents(group: Group) -> int:
    """How many groups have `group` somewhere in their parent chain (read from parent links only)."""
    rows = Group.objects.filter(tree_id=group.tree_id).values_list("pk", "parent_id")
    children = defaultdict(list)
    for pk, parent_id in rows:
        children[parent_id].append(pk)
    count, stack = 0, list(children[group.pk])
    while stack:
        pk = stack.pop()
        count += 1
        stack.extend(children[pk])
    return count


def csrf_token(page: Page) -> str:
    """The token the page hands htmx (base.html puts it on <body hx-headers>)."""
    return json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]


def building_of(site: Group) -> Group:
    return site.get_children().get(kind=Group.Kind.BUILDING)


@pytest.fixture
def dealer_a1(tree, person):
    return person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer-a1@test.example")


@pytest.fixture
def signed_in(live_server, page):
    """Open the app already logged in (the login form itself is covered by test_login.py)."""

    def sign_in(user) -> Page:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
        page.goto(f"{live_server.url}/groups/")
        expect(page.get_by_role("heading", name="Groups", exact=True)).to_be_visible()
        return page

    return sign_in


# --- 1. tree browsing, breadcrumbs, search ----------------------------------------------


def test_site_admin_opens_own_subtree_lazily_and_follows_breadcrumbs(tree, dealer_a1, browser_login, live_server):
    page = browser_login(dealer_a1)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Groups").click()
    box = page.locator("#tree")
    # The tree opens at Dealer A1 only: nothing above it, nothing beside it.
    expect(box.locator(".tree-name").get_by_role("link")).to_have_text(["Dealer A1"])
    expect(box).to_contain_text("8 groups below")
    expect(page.locator("body")).not_to_contain_text("Company A")
    expect(page.locator("body")).not_to_contain_text("Dealer A2")
    # Children are not in the page until the node is opened; opening loads them by htmx.
    expect(box.get_by_role("link", name="Site A1")).to_have_count(0)
    open_dealer = page.get_by_role("button", name="Open Dealer A1")
    with page.expect_response(lambda r: r.url.endswith(f"/groups/{tree['Dealer A1'].pk}/children/")) as loaded:
        open_dealer.click()
    assert loaded.value.status == 200
    expect(open_dealer).to_have_attribute("aria-expanded", "true")
    expect(box.get_by_role("link", name="Site A1", exact=True)).to_be_visible()
    site_children = f"/groups/{tree['Site A1'].pk}/children/"
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url) if r.url.endswith(site_children) else None)
    open_site = page.get_by_role("button", name="Open Site A1")
    open_site.click()
    building_link = box.get_by_role("link", name="Building 1", exact=True)
    expect(building_link).to_be_visible()
    expect(box.get_by_role("link", name="Floor 1")).to_have_count(0)  # one level at a time
    # Closing hides the level, opening again shows it without loading it twice.
    open_site.click()
    expect(building_link).to_be_hidden()
    open_site.click()
    expect(building_link).to_be_visible()
    expect(building_link).to_have_count(1)
    expect(open_site).to_have_attribute("aria-expanded", "true")
    assert len(requested) == 1, requested

    building_link.click()
    building = building_of(tree["Site A1"])
    expect(page).to_have_url(f"{live_server.url}/groups/{building.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Building 1")
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    # Only the ancestors the person may see: Company A is above their scope.
    expect(crumbs.get_by_role("listitem")).to_have_text(["Groups", "Dealer A1", "Site A1", "Building 1"])
    expect(page.get_by_role("heading", name="Groups below")).to_be_visible()
    expect(page.locator(".tree .tree-name").get_by_role("link")).to_have_text(["Floor 1", "Floor 2"])
    crumbs.get_by_role("link", name="Site A1").click()
    expect(page).to_have_url(f"{live_server.url}/groups/{tree['Site A1'].pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Site A1")


def test_site_admin_searches_by_name_and_by_number_within_scope(tree, dealer_a1, operator, signed_in):
    # The same number on a group in scope and on one beside it.
    gate = group_services.group_create(parent=tree["Site A1"], name="Gatehouse", kind=Group.Kind.CUSTOM,
                                       number="G-7", actor=operator)
    group_services.group_create(parent=tree["Site A2"], name="Lodge", kind=Group.Kind.CUSTOM,
                                number="G-7", actor=operator)
    page = signed_in(dealer_a1)
    search = page.get_by_label("Search by name or number")

    search.fill("floor")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="2 groups found")).to_be_visible()
    results = page.locator("#search-results")
    # Site A2 and Site B have floors with the same names; they stay out.
    expect(results.get_by_role("link")).to_have_text(["Floor 1", "Floor 2"])
    expect(results).to_contain_text("in Building 1")

    search = page.get_by_label("Search by name or number")
    expect(search).to_have_value("floor")
    search.fill("g-7")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 group found")).to_be_visible()
    expect(results.get_by_role("link")).to_have_text(["Gatehouse"])
    expect(results).to_contain_text("№ G-7")
    expect(page.locator("body")).not_to_contain_text("Lodge")
    results.get_by_role("link", name="Gatehouse").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Gatehouse")
    assert page.url.endswith(f"/groups/{gate.pk}/")

    page.get_by_role("link", name="Groups", exact=True).first.click()
    page.get_by_label("Search by name or number").fill("Dealer A2")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="0 groups found")).to_be_visible()
    expect(results).to_have_text("Nothing matches.")


def test_a_long_level_opens_fifty_at_a_time_with_show_more(tree, dealer_a1, operator, signed_in):
    group_services.groups_generate(parent=tree["Dealer A1"], actor=operator, plan=group_services.GenerationPlan(
        buildings=1, units=0, floors=1, apartments_per_floor=55, building_pattern="Tower {n}",
        floor_pattern="Deck {n}", apartment_pattern="Flat {n}"))
    page = signed_in(dealer_a1)
    box = page.locator("#tree")
    page.get_by_role("button", name="Open Dealer A1").click()
    page.get_by_role("button", name="Open Tower 1").click()
    page.get_by_role("button", name="Open Deck 1").click()
    flats = box.get_by_role("link", name=re.compile(r"^Flat \d+$"))
    expect(flats).to_have_count(50)
    page.get_by_role("button", name="Show more").click()
    expect(flats).to_have_count(55)
    expect(flats).to_have_text([f"Flat {n}" for n in range(1, 56)])
    expect(page.get_by_role("button", name="Show more")).to_have_count(0)



# --- 2. create ---------------------------------------------------------------------------


def test_site_admin_adds_a_group_after_a_blank_name_is_refused(tree, dealer_a1, signed_in, live_server):
    site = tree["Site A1"]
    before = Group.objects.count()
    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{site.pk}/")
    page.get_by_role("link", name="Add group").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"New group\s+in Site A1"))
    kind = page.get_by_label("Kind")
    expect(kind.locator("option[value=company]")).to_have_count(0)  # no company inside a site

    page.get_by_label("Name").fill("   ")
    kind.select_option("building")
    page.get_by_role("button", name="Save").click()
    name = page.get_by_label("Name")
    expect(name).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#div_id_name")).to_contain_text("This field is required.")
    assert Group.objects.count() == before

    name.fill("Building 9")
    page.get_by_label("Kind").select_option("building")
    page.get_by_label("Number").fill("9")
    page.get_by_label("Description").fill("Next to the school")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Group “Building 9” created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Building 9")
    expect(page.get_by_text("Next to the school")).to_be_visible()
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("listitem")).to_have_text(["Groups", "Dealer A1", "Site A1", "Building 9"])

    created = Group.objects.get(name="Building 9")
    assert (created.parent_id, created.kind, created.number, created.description) == (
        site.pk, "building", "9", "Next to the school")
    assert Group.objects.count() == before + 1
    assert page.url.endswith(f"/groups/{created.pk}/")
    assert tree_problems(site.tree_id) == []


def test_an_apartment_offers_no_add_group(tree, dealer_a1, signed_in, live_server):
    apartment = tree.apartment("Site A1")
    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{apartment.pk}/")
    expect(page.get_by_role("link", name="Edit")).to_be_visible()
    expect(page.get_by_role("link", name="Add group")).to_have_count(0)
    expect(page.get_by_role("link", name="Generate groups")).to_have_count(0)
    # Typing the URL by hand (or posting to it) gets a message on the apartment's page, and saves nothing.
    before = Group.objects.count()
    response = page.goto(f"{live_server.url}/groups/new/?parent={apartment.pk}")
    assert response.status == 200
    expect(page).to_have_url(f"{live_server.url}/groups/{apartment.pk}/")
    expect(page.get_by_role("alert")).to_have_text(
        f"{apartment} is an apartment: it holds residents and devices, not groups.")
    posted = page.request.post(f"{live_server.url}/groups/new/?parent={apartment.pk}",
                               headers={"X-CSRFToken": csrf_token(page)},
                               form={"name": "Closet", "kind": "custom", "number": "", "description": ""})
    assert posted.status == 200
    assert posted.url == f"{live_server.url}/groups/{apartment.pk}/"
    assert Group.objects.count() == before
    assert not Group.objects.filter(name="Closet").exists()


# --- 3. edit -----------------------------------------------------------------------------


def test_site_admin_edits_the_general_section(tree, dealer_a1, signed_in, live_server):
    building = building_of(tree["Site A1"])
    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{building.pk}/")
    page.get_by_role("link", name="Edit", exact=True).first.click()  # the group's own, before its rows below
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Edit group → General\s+Building 1"))
    # Where one is, a way back, and the way on to the group's other sections, each its own page.
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs).to_contain_text("Site A1")
    expect(crumbs).to_contain_text("Building 1")
    sections = page.get_by_role("navigation", name="Sections of Building 1")
    expect(sections.get_by_role("link")).to_have_text(["General", "Licenses", "Devices", "People", "History"])
    expect(sections.get_by_role("link", name="General")).to_have_attribute("aria-current", "page")
    expect(sections.get_by_role("link", name="Licenses")).to_have_attribute(
        "href", f"/licenses/groups/{building.pk}/")
    sections.get_by_role("link", name="Devices").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit group → Devices")
    expect(page.get_by_role("navigation", name="Sections of Building 1").get_by_role(
        "link", name="Devices")).to_have_attribute("aria-current", "page")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit group → General")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(f"{live_server.url}/groups/{building.pk}/")
    page.get_by_role("link", name="Edit", exact=True).first.click()  # the group's own, before its rows below
    expect(page.get_by_label("Name")).to_have_value("Building 1")
    expect(page.get_by_label("Number")).to_have_value("1")
    expect(page.get_by_label("Kind")).to_have_value("building")

    # A building with floors cannot become an apartment.
    page.get_by_label("Kind").select_option("apartment")
    page.get_by_label("Name").fill("Renamed too early")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#div_id_kind")).to_contain_text("This group has child groups: it cannot become an apartment.")
    building.refresh_from_db()
    assert (building.name, building.kind) == ("Building 1", "building")

    page.get_by_label("Kind").select_option("building")
    page.get_by_label("Name").fill("North tower")
    page.get_by_label("Number").fill("1A")
    page.get_by_label("Description").fill("Entrance from the yard")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_have_text("Group saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("North tower")
    expect(page.get_by_role("heading", level=1)).to_contain_text("№ 1A")
    expect(page.get_by_text("Entrance from the yard")).to_be_visible()
    building.refresh_from_db()
    assert (building.name, building.number, building.description, building.kind) == (
        "North tower", "1A", "Entrance from the yard", "building")


# --- 4. generate -------------------------------------------------------------------------


def test_site_admin_generates_a_layout_and_the_nested_sets_stay_right(tree, dealer_a1, operator,
                                                                     signed_in, live_server):
    site = group_services.group_create(parent=tree["Dealer A1"], name="Site East", kind=Group.Kind.SITE,
                                       actor=operator)
    tree_size = Group.objects.filter(tree_id=site.tree_id).count()
    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{site.pk}/")
    page.get_by_role("link", name="Generate groups").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Generate groups\s+in Site East"))
    page.get_by_label("Buildings*", exact=True).fill("2")
    page.get_by_label("Units per building").fill("0")
    page.get_by_label("Floors per unit").fill("2")
    page.get_by_label("Apartments per floor").fill("3")
    page.get_by_label("Building name").fill("Block {x}")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_label("Building name")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#div_id_building_pattern")).to_contain_text("Use {n} for the number")
    assert Group.objects.filter(tree_id=site.tree_id).count() == tree_size

    page.get_by_label("Building name").fill("Block {n}")
    page.get_by_role("button", name="Generate").click()
    expect(page.get_by_role("alert")).to_have_text("18 groups generated.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Site East")
    below = page.locator(".tree")
    expect(below.locator(".tree-name").get_by_role("link")).to_have_text(["Block 1", "Block 2"])
    expect(below).to_contain_text("8 groups below")

    site.refresh_from_db()
    assert Group.objects.filter(tree_id=site.tree_id).count() == tree_size + 18
    descendants = site.get_descendants()
    assert descendants.count() == 18
    kinds = defaultdict(int)
    for g in descendants:
        kinds[g.kind] += 1
    assert dict(kinds) == {"building": 2, "floor": 4, "apartment": 12}
    block_2 = descendants.get(name="Block 2")
    assert sorted(int(a.number) for a in block_2.get_descendants().filter(kind="apartment")) == [1, 2, 3, 4, 5, 6]
    for g in Group.objects.filter(tree_id=site.tree_id):
        assert g.get_descendant_count() == subtree_size_by_parents(g), g
    assert tree_problems(site.tree_id) == []


# --- 5. move -----------------------------------------------------------------------------


def test_site_admin_moves_a_building_to_another_site_of_the_company(tree, dealer_a1, operator,
                                                                   signed_in, live_server):
    north = group_services.group_create(parent=tree["Dealer A1"], name="Site North", kind=Group.Kind.SITE,
                                        actor=operator)
    group_services.groups_generate(parent=north, actor=operator, plan=group_services.GenerationPlan(
        buildings=1, units=0, floors=1, apartments_per_floor=1,
        building_pattern="North {n}", floor_pattern="N-floor {n}", apartment_pattern="N-flat {n}"))
    flat = Group.objects.get(name="N-flat 1")
    building = building_of(tree["Site A1"])
    site_a2 = tree["Site A2"]

    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{building.pk}/")
    page.get_by_role("link", name="Move").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move “Building 1”")
    choices = page.locator("#move-form .form-check-label")
    # In scope, same company, not itself or below it, not its current parent, never an apartment.
    expect(choices).to_have_text(["Dealer A1 (Dealer)", "Site North (Site)", "North 1 № 1 (Building)",
                                  "N-floor 1 № 1 (Floor)"])

    # A tampered form naming an apartment, or a group outside the scope, is refused at the field.
    for forbidden in (flat, site_a2):
        page.locator("#move-form input[name=new_parent]").first.evaluate(
            "(el, pk) => { el.value = String(pk); el.checked = true; }", forbidden.pk)
        page.get_by_role("button", name="Move").click()
        expect(page.locator("#new_parent-error")).to_have_text(
            "Choose a group from the list: that one is not in your scope.")
        expect(choices).to_have_count(4)
        building.refresh_from_db()
        assert building.parent_id == tree["Site A1"].pk

    search = page.get_by_label("Find the new parent by name or number")
    # Each search below changes what is listed, so every expectation waits for its own answer.
    search.fill("north")
    expect(choices).to_have_text(["Site North (Site)", "North 1 № 1 (Building)"])
    search.fill("N-flat")
    expect(page.locator("#move-form")).to_contain_text("No group matches.")
    expect(choices).to_have_count(0)
    search.fill("Site")
    expect(choices).to_have_text(["Site North (Site)"])  # not Site A2 of Dealer A2
    page.get_by_label("Site North").check()
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_role("alert")).to_have_text("Group moved.")
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("listitem")).to_have_text(["Groups", "Dealer A1", "Site North", "Building 1"])
    building.refresh_from_db()
    assert building.parent_id == north.pk
    assert set(building.get_descendants().values_list("name", flat=True)) == {
        "Floor 1", "Floor 2", "Apartment 1", "Apartment 2", "Apartment 3", "Apartment 4"}
    assert not tree["Site A1"].get_children().exists()
    assert tree_problems(building.tree_id) == []


# --- 6. delete ---------------------------------------------------------------------------


def test_site_admin_deletes_a_building_after_seeing_what_goes_with_it(tree, dealer_a1, operator, person,
                                                                     signed_in, live_server):
    site = tree["Site A1"]
    building = building_of(site)
    apartment = tree.apartment("Site A1")
    license_services.device_register(group=apartment, serial_number="SN-DEL-1", model="Door 7", actor=operator)
    person(Role.CONCIERGE, building, email="porter@test.example")
    doomed = list(building.get_descendants(include_self=True).values_list("pk", flat=True))
    assert len(doomed) == 7

    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{building.pk}/")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete “Building 1”?")
    summary = page.locator("#deletion-summary")
    expect(summary).to_contain_text("7 × groups")
    expect(summary).to_contain_text("1 × devices")
    expect(summary).to_contain_text("1 × memberships")
    expect(summary).to_contain_text(re.compile(r"1 × license blocks"))
    # Cancel keeps everything.
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Building 1")
    assert Group.objects.filter(pk__in=doomed).count() == 7

    page.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_role("alert")).to_have_text("Group “Building 1” deleted.")
    expect(page).to_have_url(f"{live_server.url}/groups/{site.pk}/")
    expect(page.locator(".tree")).to_have_text("No groups below.")
    assert not Group.objects.filter(pk__in=doomed).exists()
    assert not Device.objects.filter(serial_number="SN-DEL-1").exists()
    assert not LicenseBlock.objects.filter(group_id__in=doomed).exists()
    assert not Membership.objects.filter(group_id__in=doomed).exists()
    assert tree_problems(site.tree_id) == []


def test_deleting_the_group_one_administers_is_not_offered_and_refused_with_a_message(tree, dealer_a1, signed_in,
                                                                                       live_server):
    dealer = tree["Dealer A1"]
    size = dealer.get_descendant_count()
    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{dealer.pk}/")
    expect(page.get_by_role("link", name="Edit", exact=True).first).to_be_visible()
    expect(page.get_by_role("link", name="Delete", exact=True)).to_have_count(0)  # not offered
    # The Delete of a group below is offered.
    page.goto(f"{live_server.url}/groups/{tree['Site A1'].pk}/")
    expect(page.get_by_role("link", name="Delete", exact=True)).to_be_visible()
    # Typed by hand: the reason at once, before any confirmation page.
    page.goto(f"{live_server.url}/groups/{dealer.pk}/delete/")
    expect(page.get_by_role("alert")).to_have_text("You cannot delete the group you administer.")
    expect(page).to_have_url(f"{live_server.url}/groups/{dealer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dealer A1")
    assert Group.objects.filter(pk=dealer.pk).exists()
    assert Group.objects.get(pk=dealer.pk).get_descendant_count() == size


# --- 7. people ---------------------------------------------------------------------------


def test_site_admin_assigns_invites_and_removes_people(tree, dealer_a1, signed_in, live_server):
    building = building_of(tree["Site A1"])
    UserFactory(email="carla@test.example", name="Carla Concierge")
    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{building.pk}/")
    page.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Edit group → People\s+Building 1"))
    members = page.locator("#members")
    expect(members).to_have_text("Nobody holds a role here.")
    expect(page.get_by_label("Role*", exact=True).locator("option")).to_have_text(["Site administrator", "Concierge"])

    # An existing person gets the role; no mail.
    page.get_by_label("Email").fill("carla@test.example")
    page.get_by_label("Role*", exact=True).select_option(label="Concierge")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_have_text("carla@test.example added.")
    expect(members.get_by_role("listitem")).to_have_count(1)
    expect(members).to_contain_text("Carla Concierge")
    expect(members).to_contain_text("Concierge")
    carla = User.objects.get(email="carla@test.example")
    assert Membership.objects.filter(user=carla, group=building, role=Role.CONCIERGE).exists()
    assert mail.outbox == []

    # The same role twice is refused at the email field.
    page.get_by_label("Email").fill("carla@test.example")
    page.get_by_label("Role*", exact=True).select_option(label="Concierge")
    page.get_by_role("button", name="Add").click()
    expect(page.locator("#div_id_email")).to_contain_text("already holds this role here.")
    assert Membership.objects.filter(group=building).count() == 1

    # Someone new gets an account and a mail with a link to choose a password.
    page.get_by_label("Email").fill("Nina.New@Test.example")
    page.get_by_label("Name").fill("Nina New")
    page.get_by_label("Role*", exact=True).select_option(label="Site administrator")
    page.get_by_role("main").get_by_label("Language").select_option("uk")  # not the navbar's switcher
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("alert")).to_contain_text("added.")
    expect(members.get_by_role("listitem")).to_have_count(2)
    expect(members).to_contain_text("nina.new@test.example")
    nina = User.objects.get(email="nina.new@test.example")
    assert (nina.name, nina.language, nina.has_usable_password()) == ("Nina New", "uk", False)
    assert Membership.objects.filter(user=nina, group=building, role=Role.SITE_ADMIN).exists()
    assert len(mail.outbox) == 1
    invitation = mail.outbox[0]
    assert invitation.to == ["nina.new@test.example"]
    assert f"{live_server.url}/password/reset/" in invitation.body

    page.get_by_role("button", name="Remove carla@test.example").click()
    expect(page.get_by_role("alert")).to_have_text("Role removed.")
    expect(members.get_by_role("listitem")).to_have_count(1)
    expect(members).not_to_contain_text("carla@test.example")
    assert not Membership.objects.filter(user=carla, group=building).exists()
    assert User.objects.filter(pk=carla.pk).exists()  # the role goes, the person stays
    assert Membership.objects.filter(user=nina, group=building).exists()


# --- 8. scope from the outside -----------------------------------------------------------


def test_groups_outside_the_scope_answer_404_and_show_nothing(tree, dealer_a1, signed_in, live_server):
    site_a2, company_b, site_b = tree["Site A2"], tree["Company B"], tree["Site B"]
    page = signed_in(dealer_a1)
    # The same pages of a group in scope work (so the 404s below are about scope).
    site_a1 = tree["Site A1"]
    for path, shows in (("", "Building 1"), ("children/", "Building 1"), ("move/", "Move “Site A1”")):
        response = page.goto(f"{live_server.url}/groups/{site_a1.pk}/{path}")
        assert response.status == 200, path
        expect(page.locator("body")).to_contain_text(shows)

    outside = [
        f"/groups/{tree['Dealer A2'].pk}/",
        f"/groups/{site_a2.pk}/",
        f"/groups/{company_b.pk}/",
        f"/groups/{site_b.pk}/children/",
        f"/groups/{site_a2.pk}/children/",
        f"/groups/{building_of(site_a2).pk}/move/",
        f"/groups/{site_a2.pk}/edit/",
        f"/groups/{site_a2.pk}/delete/",
        f"/groups/{site_a2.pk}/members/",
        f"/groups/{site_a2.pk}/generate/",
        f"/groups/new/?parent={site_a2.pk}",
    ]
    for path in outside:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 404, path
        expect(page.get_by_role("heading", name="Not Found")).to_be_visible()
        expect(page.locator("body")).not_to_contain_text(re.compile("Dealer A2|Site A2|Company B|Site B|Building 1"))

    def autocomplete(q: str) -> list[int]:
        response = page.goto(f"{live_server.url}/groups/autocomplete/?q={q}")
        assert response.status == 200
        return [row["id"] for row in response.json()["results"]]

    assert autocomplete("Site") == [site_a1.pk]
    assert autocomplete("Building") == [building_of(site_a1).pk]
    assert autocomplete("Dealer A2") == []
    everything = autocomplete("")
    assert sorted(everything) == sorted(tree["Dealer A1"].get_descendants(include_self=True)
                                        .values_list("pk", flat=True))
    expect(page.locator("body")).not_to_contain_text("Site A2")


# --- 9. a concierge sees but changes nothing --------------------------------------------


def test_concierge_sees_groups_without_change_buttons_and_is_refused_on_post(tree, person,
                                                                            signed_in, live_server):
    site = tree["Site A1"]
    building = building_of(site)
    concierge = person(Role.CONCIERGE, site, email="concierge@test.example")
    page = signed_in(concierge)
    expect(page.locator("#tree .tree-name").get_by_role("link")).to_have_text(["Site A1"])
    page.locator("#tree").get_by_role("link", name="Site A1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Site A1")
    for target in (site, building):
        page.goto(f"{live_server.url}/groups/{target.pk}/")
        expect(page.get_by_role("heading", level=1)).to_contain_text(target.name)
        expect(page.get_by_role("link", name="License status")).to_be_visible()
        for label in ("Edit", "Move", "Delete", "Add group", "Generate groups"):
            expect(page.get_by_role("link", name=label, exact=True)).to_have_count(0)
        expect(page.locator("main").get_by_role("link", name="People")).to_have_count(0)
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs.get_by_role("listitem")).to_have_text(["Groups", "Site A1", "Building 1"])

    response = page.goto(f"{live_server.url}/groups/{building.pk}/edit/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("#reason")).to_have_text("You can see this group but not change it.")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Edit group")
    expect(page.get_by_label("Name")).to_have_count(0)

    page.goto(f"{live_server.url}/groups/{building.pk}/")
    token = csrf_token(page)
    headers = {"X-CSRFToken": token}
    edit = page.request.post(f"{live_server.url}/groups/{building.pk}/edit/", headers=headers, max_redirects=0,
                             form={"name": "Taken over", "kind": "building", "number": "1", "description": ""})
    assert edit.status == 403
    assert "CSRF verification failed" not in edit.text()  # refused for the role, not for a missing token
    delete = page.request.post(f"{live_server.url}/groups/{building.pk}/delete/", headers=headers,
                               max_redirects=0)
    assert delete.status == 403
    building.refresh_from_db()
    assert building.name == "Building 1"
    assert Group.objects.filter(pk=building.pk).exists()



def test_a_move_that_leaves_residents_short_is_confirmed_on_the_move_page(tree, dealer_a1, operator, person,
                                                                          signed_in, live_server, screenshot):
    from licenses import services as license_services
    from licenses.models import Grant

    today = license_services.today()

    def pool(group, vn):
        license_services.licenses_save(
            group=group, settings=license_services.SettingsInput(restricted=True), actor=operator, on=today,
            blocks=[license_services.BlockInput(key="b", id=None, kind="plus", valid_from=today, valid_until=None,
                                                quantities={"virtual_numbers": vn, "mobile_apps": vn})])

    pool(tree["Company A"], 50)
    pool(tree["Dealer A1"], 20)
    pool(tree["Site A1"], 4)
    flat = group_services.group_create(parent=tree["Dealer A1"], name="Corner flat", kind=Group.Kind.APARTMENT,
                                       actor=operator)
    resident = person(Role.RESIDENT, flat, email="moving@test.example", name="Maria Moving")
    license_services.grant_set(group=flat, user=resident, quantities={"virtual_numbers": 6, "mobile_apps": 6},
                               actor=operator, on=today)

    page = signed_in(dealer_a1)
    page.goto(f"{live_server.url}/groups/{flat.pk}/move/")
    page.get_by_label("Site A1 (Site)").check()
    page.get_by_role("button", name="Move").click()
    warning = page.locator("#confirm-suspend")
    expect(warning).to_contain_text("This move would break a pool")
    expect(warning).to_contain_text("Maria Moving (Corner flat)")
    flat.refresh_from_db()
    assert flat.parent_id == tree["Dealer A1"].pk  # nothing moved yet
    screenshot(page, "move-confirm")
    page.get_by_label("Yes, suspend these grants").check()
    page.get_by_role("button", name="Move").click()
    expect(page.get_by_role("alert")).to_have_text("Group moved.")
    flat.refresh_from_db()
    assert flat.parent_id == tree["Site A1"].pk
    assert Grant.objects.get(user=resident).is_suspended
