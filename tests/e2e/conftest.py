"""Fixtures shared by the browser tests."""

import pytest

from groups.models import Role
from tests.e2e.licenses_support import give_company_pool


@pytest.fixture
def company_admin_page(tree, person, operator, browser_login):
    """Company A has a pool with no end; its company administrator is logged in."""
    give_company_pool(tree, operator, until=None)
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example", is_staff=True)
    return browser_login(admin)
