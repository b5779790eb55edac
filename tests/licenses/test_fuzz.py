"""Crafted and random posts to the Licenses form: never a 500, and a refusal saves nothing."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groups.models import Role
from licenses import services
from licenses.models import BlockFeature, LicenseBlock, PoolSettings
from tests.licenses.helpers import block, company_pool, give

values = st.one_of(st.integers(-10**12, 10**12).map(str), st.text(max_size=12), st.sampled_from(
    ["", "0", "1", "9999999", "-1", "1e3", "2027-02-30", "2027-01-01", "null", "<script>", "999999999999999999999"]))


def snapshot():
    return (list(LicenseBlock.objects.order_by("pk").values_list("pk", "group_id", "valid_from", "valid_until")),
            list(BlockFeature.objects.order_by("pk").values_list("pk", "quantity")),
            list(PoolSettings.objects.order_by("pk").values_list("pk", "restricted", "reminder_days")))


@pytest.fixture
def target(tree, operator, person):
    today = services.today()
    company_pool(tree, actor=operator, vn=50, apps=50, start=today, days=100)
    give(tree["Dealer A2"], block(5, 5, start=today, days=30), actor=operator, on=today)
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="fuzz@test.example")
    return tree["Dealer A1"], LicenseBlock.objects.get(group=tree["Dealer A2"]), admin


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from([
    "restricted", "reminder_enabled", "reminder_days", "recurrence", "notify_expired",
    "blocks-TOTAL_FORMS", "blocks-INITIAL_FORMS", "blocks-MAX_NUM_FORMS", "blocks-0-id", "blocks-0-kind",
    "blocks-0-valid_from", "blocks-0-valid_until", "blocks-0-f_virtual_numbers", "blocks-0-f_mobile_apps",
    "blocks-0-f_ukey2_keys", "blocks-0-f_siri", "blocks-0-DELETE", "blocks-1-id", "blocks-1-f_virtual_numbers",
    "blocks-0-f_teleport", "confirm_suspend"]), values, max_size=14))
def test_random_posts_never_fail_and_refusals_save_nothing(target, data):
    dealer, foreign_block, admin = target
    client = Client()
    client.force_login(admin)
    before = snapshot()
    response = client.post(f"/licenses/groups/{dealer.pk}/", data)
    assert response.status_code in (200, 302, 400, 403), response.status_code
    if response.status_code != 302:
        assert snapshot() == before
    foreign_block.refresh_from_db()
    assert foreign_block.group_id != dealer.pk  # another group's block never moves here


def test_tampered_posts_are_refused_without_a_500(target):
    dealer, foreign_block, admin = target
    client = Client()
    client.force_login(admin)
    today = services.today().isoformat()
    base = {"restricted": "on", "reminder_days": "14", "recurrence": "once", "blocks-INITIAL_FORMS": "0",
            "blocks-MAX_NUM_FORMS": "1000"}
    cases = [
        {**base, "blocks-TOTAL_FORMS": "100000"},  # a huge form count
        {**base, "blocks-TOTAL_FORMS": "1", "blocks-0-id": str(foreign_block.pk), "blocks-0-kind": "plus",
         "blocks-0-valid_from": today, "blocks-0-f_virtual_numbers": "1"},  # another tree's block
        {**base, "blocks-TOTAL_FORMS": "1", "blocks-0-kind": "plus", "blocks-0-valid_from": today,
         "blocks-0-f_virtual_numbers": "-5"},
        {**base, "blocks-TOTAL_FORMS": "1", "blocks-0-kind": "gold", "blocks-0-valid_from": today},
        {**base, "blocks-TOTAL_FORMS": "1", "blocks-0-kind": "plus", "blocks-0-valid_from": "31/12/2027"},
        {**base, "recurrence": "hourly", "blocks-TOTAL_FORMS": "0"},
    ]
    before = snapshot()
    for data in cases:
        response = client.post(f"/licenses/groups/{dealer.pk}/", data)
        assert response.status_code == 200, data
        assert snapshot() == before


def test_missing_csrf_token_is_refused(target):
    dealer, _block, admin = target
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(f"/licenses/groups/{dealer.pk}/", {"restricted": "on"}).status_code == 403
