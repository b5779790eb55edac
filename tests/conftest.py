import importlib
import os

import pytest

from groups import services as group_services
from groups.models import Group, Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    # Tests marked postgres run only against PostgreSQL (make test-pg), the rest on SQLite.
    on_pg = os.environ.get("DATABASE_URL", "").startswith("postgres")
    for item in items:
        if "postgres" in item.keywords and not on_pg:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://… (make test-pg)"))
    # Browser tests last: once Playwright's sync API has started, an asyncio loop stays running on
    # the main thread, and Django cannot call an async view (/health/) from such a thread. A
    # gunicorn worker has no such loop; the tests before the browser must not either.
    items.sort(key=lambda item: "e2e" in item.keywords)


@pytest.fixture(autouse=True)
def _feature_catalogue(request):
    """Transactional tests flush the database, and with it the catalogue a migration seeded."""
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"live_server", "transactional_db"} & set(request.fixturenames))
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    catalogue = importlib.import_module("licenses.migrations.0002_feature_catalogue")
    catalogue.seed(apps, None)


@pytest.fixture
def operator(db):
    return UserFactory(email="operator@test.example", is_superuser=True, is_staff=True)


@pytest.fixture
def tree(db, operator):
    """Two companies; company A has dealers A1 and A2, each with a site laid out in buildings."""
    company_a = group_services.group_create(parent=None, name="Company A", kind=Group.Kind.COMPANY, actor=operator)
    company_b = group_services.group_create(parent=None, name="Company B", kind=Group.Kind.COMPANY, actor=operator)
    dealer_a1 = group_services.group_create(parent=company_a, name="Dealer A1", kind=Group.Kind.DEALER, actor=operator)
    dealer_a2 = group_services.group_create(parent=company_a, name="Dealer A2", kind=Group.Kind.DEALER, actor=operator)
    site_a1 = group_services.group_create(parent=dealer_a1, name="Site A1", kind=Group.Kind.SITE, actor=operator)
    site_a2 = group_services.group_create(parent=dealer_a2, name="Site A2", kind=Group.Kind.SITE, actor=operator)
    site_b = group_services.group_create(parent=company_b, name="Site B", kind=Group.Kind.SITE, actor=operator)
    for site in (site_a1, site_a2, site_b):
        site.refresh_from_db()
        group_services.groups_generate(
            parent=site, plan=group_services.GenerationPlan(buildings=1, units=0, floors=2, apartments_per_floor=2),
            actor=operator)
    groups = {g.name: g for g in Group.objects.filter(kind__in=["company", "dealer", "site"])}

    class Tree:
        def __getitem__(self, name):
            return Group.objects.get(pk=groups[name].pk)

        def apartment(self, site_name):
            return Group.objects.get(pk=groups[site_name].pk).get_descendants().filter(kind="apartment").first()

    return Tree()


@pytest.fixture
def person(db):
    """person(role, group) -> a user holding that role there."""

    def make(role: str, group: Group, **kwargs):
        user = UserFactory(**kwargs)
        MembershipFactory(user=user, group=group, role=role)
        return user

    return make


@pytest.fixture
def company_admin(tree, person):
    return person(Role.COMPANY_ADMIN, tree["Company A"], email="company-a@test.example", is_staff=True)


@pytest.fixture
def dealer_admin(tree, person):
    return person(Role.SITE_ADMIN, tree["Dealer A1"], email="dealer-a1@test.example", is_staff=True)


# --- browser tests ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture
def screenshot():
    """screenshot(page, name): saved under $SCREENSHOT_DIR (docs/screenshots/ when refreshing the docs)."""

    def shoot(page, name: str, **kwargs) -> None:
        folder = os.environ.get("SCREENSHOT_DIR")
        if folder:
            page.screenshot(path=os.path.join(folder, f"{name}.png"), **kwargs)

    return shoot


@pytest.fixture
def browser_login(live_server, page):
    """Log in through the login form, as a person would; returns the page."""

    def login(user, password: str = PASSWORD):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return page

    return login
