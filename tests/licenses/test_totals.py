"""The totals kept per pool: derivable from the rows, caught when corrupted, and what makes a
save, a grant and a pool's status cost the same whatever the size of the pool."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups import services as group_services
from groups.models import Membership, Role
from licenses import integrity, selectors, services, totals
from licenses.models import Device, Feature, Grant, PoolChangePoint, PoolDevices, PoolUse
from tests.factories import UserFactory
from tests.licenses.helpers import TODAY, block, company_pool, give
from tests.test_query_counts import _pool_with


@pytest.fixture
def pools(tree, operator):
    """Company A's pool; Dealer A1 carved from it, with a device and a resident with a grant."""
    company_pool(tree, actor=operator, vn=100, apps=100)
    give(tree["Dealer A1"], block(30, 20, days=90), actor=operator)
    apartment = tree.apartment("Site A1")
    services.device_register(group=apartment.parent.parent, serial_number="SN-1", model="AV-01", actor=operator,
                             on=TODAY)
    resident = UserFactory(email="resident@test.example")
    Membership.objects.create(user=resident, group=apartment, role=Role.RESIDENT)
    services.grant_set(group=apartment, user=resident, quantities={"virtual_numbers": 2, "mobile_apps": 1},
                       actor=operator, on=TODAY)
    return tree


def test_stored_totals_equal_the_rows_and_say_what_the_pool_has(pools):
    dealer = pools["Dealer A1"]
    assert totals.drift() == []
    vn = Feature.objects.get(code="virtual_numbers").pk
    have = totals.stored(dealer.pk)
    # 30 own + 2 from the device; the grant's 2; one device.
    assert (have.points[(vn, TODAY)], have.residents[vn], have.devices) == ([32, 0], 2, 1)
    assert have.points[(vn, TODAY + timedelta(days=90))] == [-30, 0]
    company = totals.stored(pools["Company A"].pk)
    assert company.points[(vn, TODAY)] == [100, 30] and company.residents[vn] == 0


@pytest.mark.parametrize("corrupt", ["point", "residents", "devices", "stray"])
def test_check_integrity_catches_a_corrupted_total_and_rebuild_repairs_it(pools, corrupt):
    dealer = pools["Dealer A1"]
    if corrupt == "point":
        PoolChangePoint.objects.filter(pool=dealer, day=TODAY, feature__code="virtual_numbers").update(capacity=33)
    elif corrupt == "residents":
        PoolUse.objects.filter(pool=dealer, feature__code="virtual_numbers").update(residents=1)
    elif corrupt == "devices":
        PoolDevices.objects.filter(pool=dealer).update(count=5)
    else:
        PoolUse.objects.create(pool=pools["Site A1"], feature=Feature.objects.get(code="mobile_apps"), residents=4)
    problems = [p for p in integrity.check(on=TODAY) if p.kind == "totals"]
    assert len(problems) == 1, problems
    assert ("not a pool" in problems[0].detail) if corrupt == "stray" else ("Dealer A1" in problems[0].detail)
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_integrity", "--today", TODAY.isoformat(), stdout=out)
    assert "totals: " in out.getvalue()
    call_command("rebuild_pool_totals", stdout=StringIO())
    assert integrity.check(on=TODAY) == []


def test_every_write_keeps_them(pools, operator):
    """Lowering, removing a device, suspending on confirmation, deleting a person and a group,
    switching a restriction and moving: after each, the stored totals equal the rows."""
    dealer, apt = pools["Dealer A1"], pools.apartment("Site A1")
    blocks = selectors.group_blocks(dealer)
    services.device_unregister(device=Device.objects.get(serial_number="SN-1"), actor=operator, on=TODAY,
                               confirm_suspend=True)
    assert totals.drift() == []
    grant = Grant.objects.get(group=apt)
    give(dealer, block(0, 0, days=90, id=blocks[0].pk), actor=operator, confirm=True)
    grant.refresh_from_db()
    assert grant.is_suspended and totals.drift() == []
    give(dealer, block(30, 20, days=90, id=blocks[0].pk), actor=operator)
    grant.refresh_from_db()
    assert not grant.is_suspended and totals.drift() == []
    give(pools["Site A1"], block(5, 5, days=30), actor=operator, confirm=True)  # a new pool inside the dealer's
    assert totals.drift() == []
    group_services.group_move(group=pools.apartment("Site A1").parent.parent, new_parent=pools["Site A2"],
                              actor=operator, confirm_suspend=True)
    assert totals.drift() == []
    give(pools["Site A1"], actor=operator, restricted=False, confirm=True)
    assert totals.drift() == []
    apt.memberships.get(role=Role.RESIDENT).user.delete()
    assert totals.drift() == []
    group_services.group_delete(group=pools["Site A2"], actor=operator)
    assert totals.drift() == []


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def _one_write(what: str, size: int, operator) -> int:
    dealer, admin = _pool_with(size, operator)
    today = timezone.localdate()
    if what == "save":  # one more carved block in a child: checks the child's pool and the dealer's
        child = dealer.get_descendants().filter(kind="apartment").last()
        return _queries(lambda: services.licenses_save(
            group=child, settings=services.SettingsInput(restricted=True),
            blocks=[block(1, start=today, days=30, key="new")], actor=admin, on=today))
    if what == "grant":  # a new resident in an apartment the dealer's pool serves
        home = group_services.group_create(parent=dealer, name="Served flat", kind="apartment", actor=operator)
        newcomer = UserFactory(email=f"newcomer-{size}@test.example")
        Membership.objects.create(user=newcomer, group=home, role=Role.RESIDENT)
        return _queries(lambda: services.grant_set(group=home, user=newcomer, quantities={"virtual_numbers": 1},
                                                   actor=admin, on=today))
    return _queries(lambda: selectors.pool_status(group=dealer, on=today))


@pytest.mark.parametrize(("what", "most"), [("save", 40), ("grant", 30), ("status", 8)])
def test_a_save_a_grant_and_the_status_do_not_grow_with_the_pool(operator, what, most):
    """The same number of queries with 10 or 1,000 carved children, residents and own blocks
    (and, the stored totals being few rows, the same work): pinned, with an upper bound."""
    counts = [_one_write(what, size, operator) for size in (10, 1000)]
    assert counts[0] == counts[1], counts
    assert counts[0] <= most, counts
