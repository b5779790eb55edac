"""Login throttling (django-axes) and the error pages, tried as a person would."""

import pytest
from django.test import Client
from django.urls import reverse

from groups import views as group_views
from groups.models import Role
from tests.factories import PASSWORD


@pytest.fixture
def someone(tree, person):
    return person(Role.SITE_ADMIN, tree["Dealer A1"], email="someone@test.example", language="uk")


def _login(client, email, password, ip="10.0.0.1"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_repeated_failures_lock_the_account_from_that_address(someone, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, someone.email, "wrong")
        assert response.status_code == 200 and "Please enter a correct" in response.content.decode()
    locked = _login(client, someone.email, "wrong")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Too many failed attempts" in body and "15 minutes" in body
    # Locked even with the right password, from the same address...
    assert _login(client, someone.email, PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # ...but not from another address, and not for another account.
    elsewhere = Client()
    assert _login(elsewhere, someone.email, PASSWORD, ip="10.0.0.2").status_code == 302


def test_the_lockout_ends_after_the_cool_off(someone, client, settings):
    import time_machine
    from django.utils import timezone

    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, someone.email, "wrong")
    assert _login(client, someone.email, PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + settings.AXES_COOLOFF_TIME / 10):
        assert _login(client, someone.email, PASSWORD).status_code == 302


def test_a_refusal_gives_its_reason_in_the_persons_language_with_navigation(tree, person, client):
    concierge = person(Role.CONCIERGE, tree["Site A1"], email="concierge@test.example", language="uk")
    client.force_login(concierge)
    response = client.get(reverse("groups:edit", args=[tree["Site A1"].pk]))
    assert response.status_code == 403
    body = response.content.decode()
    assert '<nav class="navbar' in body and 'lang="uk"' in body
    assert "Ви можете переглядати цю групу, але не змінювати її." in body
    assert "Не дозволено" in body and "Not allowed" not in body


def test_not_found_carries_the_navigation(dealer_admin, client):
    client.force_login(dealer_admin)
    response = client.get("/groups/999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "navbar" in body and reverse("groups:tree") in body


def test_a_server_error_shows_only_the_page(dealer_admin, monkeypatch, settings):
    settings.DEBUG = False

    def broken(**kwargs):
        raise RuntimeError("secret-detail-of-the-failure")

    monkeypatch.setattr(group_views.selectors, "search_groups", broken)
    client = Client(raise_request_exception=False)
    client.force_login(dealer_admin)
    response = client.get("/groups/", {"q": "x"})
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body and "navbar" in body
    assert "secret-detail" not in body and "Traceback" not in body
    assert dealer_admin.display_name in body  # the navigation of the person, not an anonymous page
