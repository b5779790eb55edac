"""What an administrator sees while PostgreSQL restarts: the 503 page that says nothing was saved,
and the app again once it is back, without a restart. The PostgreSQL drill (make drill) does the same under load with a real restart."""

import os
from pathlib import Path
from unittest import mock

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import OperationalError
from playwright.sync_api import expect

from groups.models import Role
from tests.e2e.reports_support import serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
GONE = OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


def test_a_save_while_the_database_is_away_says_nothing_was_saved_and_the_app_comes_back(
        tree, person, browser_login, live_server, tmp_path):
    admin = person(Role.SITE_ADMIN, tree["Dealer A1"], email="d@test.example", name="Dana")
    page = browser_login(admin)
    page.goto(f"{live_server.url}/groups/{tree['Dealer A1'].pk}/edit/")
    page.get_by_label("Description").fill("Renamed while the database restarts")
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=GONE):
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name="Briefly unavailable")).to_be_visible()
        expect(page.get_by_text("nothing was saved")).to_be_visible()
        assert serious_violations(page, Axe()) == []
        folder = Path(os.environ.get("SCREENSHOTS") or tmp_path)
        page.screenshot(path=str(folder / "database-unavailable.png"))
    assert tree["Dealer A1"].description != "Renamed while the database restarts"
    # The database is back: the same browser, the same session, the page as before.
    page.get_by_role("link", name="Back to the start page").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
