"""Pools hold on every day, not just the first shortfall (issue: pools hold on every day)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from groups import services as group_services
from groups.models import Role
from licenses import services
from licenses.expiry import expire_licenses
from licenses.models import Grant, LicenseBlock
from tests.licenses.helpers import TODAY, block, give
from tests.licenses.test_pool_rules import _resident, company  # noqa: F401 - the fixture


def _day(n: int):
    return TODAY + timedelta(days=n)


def _resident_under(group, person, operator, **quantities):
    """A resident in an apartment right under `group`, beside (not inside) its sub-groups."""
    apartment = group_services.group_create(parent=group, name=f"Flat under {group.name}", kind="apartment",
                                            actor=operator)
    user = person(Role.RESIDENT, apartment)
    return services.grant_set(group=apartment, user=user, quantities=quantities, actor=operator, on=TODAY)


def test_a_residents_shortfall_today_does_not_hide_a_later_sub_group_block(company, tree, person, operator):  # noqa: F811
    """Bug 1: the site has 10, a resident uses 2; the building holds 6 (days +5..+9) then 8 (+10..+20).
    Lowering the site to 7 breaks the building's second block on day +10: refused, naming it."""
    site, building = tree["Site A1"], tree["Site A1"].get_children().first()
    give(site, block(10, 10, days=100), actor=operator)
    _resident_under(site, person, operator, virtual_numbers=2, mobile_apps=2)
    give(building, block(6, 6, start=_day(5), until=_day(9), key="b1"),
         block(8, 8, start=_day(10), until=_day(20), key="b2"), actor=operator)
    site_block = LicenseBlock.objects.get(group=site)
    for confirm in (False, True):
        with pytest.raises(ValidationError) as caught:
            give(site, block(7, 7, days=100, id=site_block.pk), actor=operator, confirm=confirm)
        text = " ".join(caught.value.messages)
        assert "2027-01-20" in text and "would need 10" in text and "Lower these sub-groups' blocks first: Building 1" in text, text
    assert site_block.quantities.get(feature__code="virtual_numbers").quantity == 10


def test_deleting_a_block_is_refused_when_sub_groups_hold_more_on_a_later_day(company, tree, person, operator):  # noqa: F811
    dealer = tree["Dealer A1"]
    give(dealer, block(40, 40, 40, days=100, key="a"), block(10, 10, 10, start=_day(30), days=70, key="b"),
         actor=operator)
    _resident_under(dealer, person, operator, virtual_numbers=1)  # residents short first, sub-groups later
    give(tree["Site A1"], block(45, 45, 45, start=_day(30), days=10), actor=operator)
    later = LicenseBlock.objects.get(group=dealer, valid_from=_day(30))
    with pytest.raises(ValidationError) as caught:
        give(dealer, block(40, 40, 40, days=100, key="a", id=LicenseBlock.objects.get(
            group=dealer, valid_from=TODAY).pk), actor=operator, delete_ids=[later.pk], confirm=True)
    assert "sub-groups would need 45" in " ".join(caught.value.messages)
    assert LicenseBlock.objects.filter(pk=later.pk).exists()


def test_a_renewal_that_starts_later_brings_suspended_grants_back_on_its_first_day(company, tree, person, operator):  # noqa: F811
    """Bug 2: a block ends on day +1, its renewal starts on day +4; grants suspended on day +2 come
    back when the renewal starts, not only when some block expires."""
    dealer = tree["Dealer A1"]
    give(dealer, block(10, 10, start=TODAY, until=_day(1), key="old"),
         block(10, 10, start=_day(4), until=_day(60), key="new"), actor=operator)
    with time_machine.travel(TODAY):
        first = _resident(tree, person, operator, n=0, virtual_numbers=3, mobile_apps=3)
        second = _resident(tree, person, operator, n=1, virtual_numbers=3, mobile_apps=3)
    expire_licenses(on=_day(2))
    assert Grant.objects.filter(suspended_at__isnull=False).count() == 2
    expire_licenses(on=_day(3))
    assert Grant.objects.filter(suspended_at__isnull=False).count() == 2
    expire_licenses(on=_day(4))
    first.refresh_from_db(), second.refresh_from_db()
    assert not first.is_suspended and not second.is_suspended


def test_switching_restriction_on_offers_to_suspend_residents_instead_of_refusing(company, tree, person, operator):  # noqa: F811
    """Rule 3: switching restriction on (or off) gets the same confirmation path as a lowering."""
    dealer = tree["Dealer A1"]
    give(dealer, block(20, 20, days=100), actor=operator)
    with time_machine.travel("2027-01-10 09:00"):
        older = _resident_under(tree["Site A1"], person, operator, virtual_numbers=3, mobile_apps=3)
    with time_machine.travel("2027-01-10 10:00"):
        newer = _resident_under(tree["Site A1"], person, operator, virtual_numbers=3, mobile_apps=3)
    site = tree["Site A1"]
    with pytest.raises(services.NeedsConfirmation) as caught:
        give(site, block(4, 4, days=100), actor=operator)
    assert [g.pk for g in caught.value.grants] == [newer.pk]
    assert not LicenseBlock.objects.filter(group=site).exists()
    result = give(site, block(4, 4, days=100), actor=operator, confirm=True)
    assert [g.pk for g in result.suspended] == [newer.pk]
    older.refresh_from_db(), newer.refresh_from_db()
    assert not older.is_suspended and newer.is_suspended


def test_a_move_that_leaves_only_residents_short_asks_to_confirm_then_suspends(company, tree, person, operator,  # noqa: F811
                                                                              client):
    dealer, site = tree["Dealer A1"], tree["Site A1"]
    give(dealer, block(20, 20, days=100), actor=operator)
    give(site, block(4, 4, days=100), actor=operator)
    with time_machine.travel("2027-01-10 09:00"):
        settled = _resident_under(site, person, operator, virtual_numbers=3, mobile_apps=3)
    with time_machine.travel("2027-01-10 10:00"):
        moving = _resident_under(dealer, person, operator, virtual_numbers=3, mobile_apps=3)
    flat = moving.group
    with time_machine.travel(TODAY):
        with pytest.raises(services.NeedsConfirmation) as caught:
            group_services.group_move(group=flat, new_parent=site, actor=operator)
        assert [g.pk for g in caught.value.grants] == [moving.pk]
        flat.refresh_from_db()
        assert flat.parent_id == dealer.pk
        # The same through the Move page, as a person would: asked first, moved once confirmed.
        client.force_login(operator)
        page = client.post(f"/groups/{flat.pk}/move/", {"new_parent": site.pk})
        assert page.status_code == 200 and 'id="confirm-suspend"' in page.content.decode()
        flat.refresh_from_db()
        assert flat.parent_id == dealer.pk
        done = client.post(f"/groups/{flat.pk}/move/", {"new_parent": site.pk, "confirm_suspend": "1"})
        assert done.status_code == 302
    flat.refresh_from_db(), moving.refresh_from_db(), settled.refresh_from_db()
    assert flat.parent_id == site.pk and moving.is_suspended and not settled.is_suspended


def test_a_lowering_that_leaves_a_later_day_short_for_residents_is_confirmed_with_that_day(company, tree, person,  # noqa: F811
                                                                                         operator):
    """Rule 3: residents short only on a later day (a sub-group's block starts): the person confirms a
    list with the day; the daily sweep suspends them on that day, not before."""
    dealer = tree["Dealer A1"]
    give(dealer, block(10, 10, days=100), actor=operator)
    resident = _resident_under(dealer, person, operator, virtual_numbers=4, mobile_apps=4)
    give(tree["Site A1"], block(5, 5, start=_day(3), days=20), actor=operator)
    dealer_block = LicenseBlock.objects.get(group=dealer)
    with pytest.raises(services.NeedsConfirmation) as caught:
        give(dealer, block(8, 8, days=100, id=dealer_block.pk), actor=operator)
    assert [g.pk for g in caught.value.grants] == [resident.pk]
    assert "from 2027-01-13" in caught.value.messages[0]
    result = give(dealer, block(8, 8, days=100, id=dealer_block.pk), actor=operator, confirm=True)
    assert result.suspended == []
    expire_licenses(on=_day(2))
    resident.refresh_from_db()
    assert not resident.is_suspended
    expire_licenses(on=_day(3))
    resident.refresh_from_db()
    assert resident.is_suspended
