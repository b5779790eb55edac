from datetime import date

import pytest

from groups.models import Role
from licenses import expiry, services
from licenses.models import Grant, LicenseBlock
from tests.licenses.helpers import block, company_pool, give

START = date(2027, 1, 1)


@pytest.fixture
def served(tree, operator, person):
    company_pool(tree, actor=operator, start=START)
    give(tree["Dealer A1"], block(4, 4, start=START, until=date(2027, 1, 31), key="short"),
         block(2, 2, start=START, days=300, key="long"), actor=operator, on=START)
    apartments = list(tree["Site A1"].get_descendants().filter(kind="apartment"))
    grants = []
    for n, apartment in enumerate(apartments[:3]):
        user = person(Role.RESIDENT, apartment)
        grants.append(services.grant_set(group=apartment, user=user, quantities={"virtual_numbers": 2},
                                         actor=operator, on=START))
        Grant.objects.filter(pk=grants[-1].pk).update(granted_at=f"2027-01-0{n + 1}T10:00Z")
    return grants


def test_expiry_suspends_most_recent_first_then_renewal_restores(served, tree, operator):
    assert expiry.expire_licenses(on=date(2027, 1, 31)) == []  # still valid on its last day
    actions = expiry.expire_licenses(on=date(2027, 2, 1))
    assert [a.action for a in actions] == ["expired", "suspended", "suspended"]
    suspended = set(Grant.objects.filter(suspended_at__isnull=False).values_list("pk", flat=True))
    assert suspended == {served[1].pk, served[2].pk}  # the two most recent; the oldest keeps the Basic... the rest
    assert expiry.expire_licenses(on=date(2027, 2, 1)) == []  # idempotent
    short = LicenseBlock.objects.get(group=tree["Dealer A1"], valid_until=date(2027, 1, 31))
    assert short.history.first().history_user is None  # the system did it
    # Renewal: a new block brings them back, oldest first.
    result = give(tree["Dealer A1"], block(2, 2, start=date(2027, 2, 1), days=100, key="renew"), actor=operator,
                  on=date(2027, 2, 1))
    assert [g.pk for g in result.restored] == [served[1].pk]


def test_expiry_works_in_batches(served, tree, operator):
    actions = expiry.expire_licenses(on=date(2027, 2, 1), batch=1)
    assert sum(a.action == "expired" for a in actions) == 1
