from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from groups import services as group_services
from groups.models import Role
from licenses import pools, services
from licenses.models import Grant, LicenseBlock, PoolSettings
from licenses.selectors import pool_status
from tests.licenses.helpers import TODAY, block, drop_trials, give


@pytest.fixture
def company(tree, operator):
    """Company A's root pool: 100 vn / 80 apps / 50 keys with remote door opening, for a year."""
    group = tree["Company A"]
    drop_trials(group)  # drop the Trial: tests set exact numbers
    give(group, block(100, 80, 50, days=365, switches=["remote_door_opening"]), actor=operator)
    return group


def test_new_company_gets_trial_and_restriction(operator, db):
    with time_machine.travel(TODAY):
        company = group_services.group_create(parent=None, name="Fresh", kind="company", actor=operator)
    trial = LicenseBlock.objects.get(group=company)
    assert trial.kind == "trial" and trial.valid_from == TODAY
    assert (trial.valid_until - trial.valid_from).days == 29  # 30 days, both ends included
    assert PoolSettings.objects.get(group=company).restricted
    assert trial.quantities.filter(feature__kind="switch", quantity=1).count() == 11


def test_carving_within_the_pool(company, tree, operator):
    give(tree["Dealer A1"], block(60, 50, 10, days=100), actor=operator)
    give(tree["Dealer A2"], block(40, 30, 40, days=100), actor=operator)
    status = pool_status(group=company, on=TODAY)
    row = {r.feature.code: r for r in status.counted}
    assert (row["virtual_numbers"].limit, row["virtual_numbers"].held, row["virtual_numbers"].available) == (100, 100, 0)


def test_over_allocation_is_refused_with_pool_feature_day_and_amounts(company, tree, operator):
    give(tree["Dealer A1"], block(60, 50, 10, days=100), actor=operator)
    with pytest.raises(ValidationError) as exc:
        give(tree["Dealer A2"], block(50, 40, 10, days=100, key="blocks-0"), actor=operator)
    message = " ".join(exc.value.message_dict["blocks-0"])
    # The shortfall, what is free and what to do, with the feature as the catalogue names it.
    assert message == ("Company A has 40 Virtual numbers free on 2027-01-10; this asks for 50: lower it by 10. "
                       "Company A has 30 Mobile app installs free on 2027-01-10; this asks for 40: lower it by 10.")
    assert not LicenseBlock.objects.filter(group=tree["Dealer A2"]).exists()
    assert not PoolSettings.objects.filter(group=tree["Dealer A2"], restricted=True).exists()  # nothing half-saved


def test_each_day_is_checked_across_the_owners_block_boundaries(tree, operator):
    company = tree["Company A"]
    drop_trials(company)
    give(company, block(50, 50, start=TODAY, days=100, key="x"), block(20, 20, start=TODAY + timedelta(days=100), days=100, key="y"),
         actor=operator)
    with pytest.raises(ValidationError) as exc:
        give(tree["Dealer A1"], block(30, 30, days=150), actor=operator)
    assert "Company A has 20 Virtual numbers free on 2027-04-20; this asks for 30: lower it by 10." in " ".join(
        exc.value.messages)
    give(tree["Dealer A1"], block(20, 20, days=200), actor=operator)  # fits every day


def test_a_block_past_the_owners_end_is_refused(company, tree, operator):
    with pytest.raises(ValidationError) as exc:
        give(tree["Dealer A1"], block(10, 10, days=500), actor=operator)
    # One line for the block, not one per feature.
    assert exc.value.messages == ["This block runs past the license of Company A, which ends on 2028-01-09."]
    with pytest.raises(ValidationError):
        give(tree["Dealer A1"], block(10, 10, until=None), actor=operator)  # no end, owner has one


def test_a_future_block_is_checked_only_on_its_days(tree, operator):
    company = tree["Company A"]
    drop_trials(company)
    give(company, block(10, 10, start=TODAY, days=10, key="x"), block(50, 50, start=TODAY + timedelta(days=30), days=30, key="y"),
         actor=operator)
    give(tree["Dealer A1"], block(40, 40, start=TODAY + timedelta(days=30), days=30), actor=operator)


def test_virtual_numbers_must_cover_mobile_apps(company, tree, operator):
    with pytest.raises(ValidationError) as exc:
        give(tree["Dealer A1"], block(5, 6, days=10, key="blocks-0"), actor=operator)
    assert "Virtual numbers (5) must be at least the mobile app installs (6)" in exc.value.message_dict["blocks-0"][0]


@pytest.mark.parametrize("bad", [-1, 10**7, "7", 1.5, None])
def test_bad_quantities_are_refused(company, tree, operator, bad):
    b = block(5, 1, days=10, key="blocks-0")
    b.quantities["ukey2_keys"] = bad
    with pytest.raises(ValidationError) as exc:
        give(tree["Dealer A1"], b, actor=operator)
    assert "blocks-0" in exc.value.message_dict


def test_unknown_feature_and_reversed_dates_are_refused(company, tree, operator):
    b = block(5, 1, days=10, key="blocks-0")
    b.quantities["teleport"] = 1
    b.valid_until = TODAY - timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        give(tree["Dealer A1"], b, actor=operator)
    text = " ".join(exc.value.message_dict["blocks-0"])
    assert "Unknown feature" in text and "before" in text


def test_switch_only_where_the_owner_has_it(company, tree, operator):
    give(tree["Dealer A1"], block(1, 1, days=10, switches=["remote_door_opening"]), actor=operator)
    with pytest.raises(ValidationError) as exc:
        give(tree["Dealer A2"], block(1, 1, days=10, switches=["siri"]), actor=operator)
    assert "does not have Siri" in " ".join(exc.value.messages)


def test_nobody_edits_their_own_licenses(company, tree, person):
    dealer = person(Role.SITE_ADMIN, tree["Dealer A1"])
    with pytest.raises(PermissionDenied):
        give(tree["Dealer A1"], block(1, 1, days=10), actor=dealer)
    assert not LicenseBlock.objects.filter(group=tree["Dealer A1"]).exists()


def test_lowering_below_a_subgroups_block_is_refused_listing_it(company, tree, operator):
    give(tree["Dealer A1"], block(60, 50, days=100), actor=operator)
    root_block = LicenseBlock.objects.get(group=company)
    with pytest.raises(ValidationError) as exc:
        give(company, block(50, 50, 50, days=365, id=root_block.pk, switches=["remote_door_opening"]), actor=operator)
    assert ("Company A's pool has 50 Virtual numbers on 2027-01-10; sub-groups would need 60: 10 short. "
            "Lower these sub-groups' blocks first: Dealer A1.") in " ".join(exc.value.messages)
    assert root_block.quantities.get(feature__code="virtual_numbers").quantity == 100


def _resident(tree, person, operator, site="Site A1", n=0, **quantities):
    apartment = tree[site].get_descendants().filter(kind="apartment")[n]
    user = person(Role.RESIDENT, apartment)
    return services.grant_set(group=apartment, user=user, quantities=quantities, actor=operator, on=TODAY)


def test_residents_count_in_the_pool_that_serves_them(company, tree, person, operator):
    give(tree["Dealer A1"], block(10, 10, days=100), actor=operator)
    _resident(tree, person, operator, virtual_numbers=4, mobile_apps=3)
    status = pool_status(group=tree["Dealer A1"], on=TODAY)
    row = {r.feature.code: r for r in status.counted}["virtual_numbers"]
    assert (row.limit, row.used, row.available) == (10, 4, 6)
    with pytest.raises(ValidationError) as exc:
        _resident(tree, person, operator, n=1, virtual_numbers=7)
    assert "Dealer A1 has 6 Virtual numbers free on 2027-01-10; this asks for 7: lower it by 1." in " ".join(
        exc.value.messages)
    # A block that would squeeze out the residents already served is refused too.
    dealer_block = LicenseBlock.objects.get(group=tree["Dealer A1"])
    with pytest.raises(services.NeedsConfirmation):
        give(tree["Dealer A1"], block(3, 3, days=100, id=dealer_block.pk), actor=operator)


def test_resident_switch_only_if_the_pool_has_it(company, tree, person, operator):
    give(tree["Dealer A1"], block(10, 10, days=100), actor=operator)
    with pytest.raises(ValidationError):
        _resident(tree, person, operator, remote_door_opening=1)


def test_shrinking_suspends_most_recent_first_and_renewal_restores_oldest_first(company, tree, person, operator):
    give(tree["Dealer A1"], block(10, 10, days=100), actor=operator)
    with time_machine.travel("2027-01-10 09:00"):
        first = _resident(tree, person, operator, n=0, virtual_numbers=4)
    with time_machine.travel("2027-01-10 10:00"):
        second = _resident(tree, person, operator, n=1, virtual_numbers=4)
    dealer_block = LicenseBlock.objects.get(group=tree["Dealer A1"])
    with pytest.raises(services.NeedsConfirmation) as exc:
        give(tree["Dealer A1"], block(5, 5, days=100, id=dealer_block.pk), actor=operator)
    assert second in exc.value.grants and first not in exc.value.grants
    assert not Grant.objects.filter(suspended_at__isnull=False).exists()  # not yet: nothing saved
    result = give(tree["Dealer A1"], block(5, 5, days=100, id=dealer_block.pk), actor=operator, confirm=True)
    assert [g.pk for g in result.suspended] == [second.pk]
    second.refresh_from_db()
    assert second.is_suspended
    result = give(tree["Dealer A1"], block(10, 10, days=100, id=dealer_block.pk), actor=operator)
    assert [g.pk for g in result.restored] == [second.pk]


def test_devices_add_basic_capacity_and_removal_follows_the_rules(company, tree, person, operator):
    give(tree["Dealer A1"], block(2, 2, days=100), actor=operator)
    apartment = tree["Site A1"].get_descendants().filter(kind="apartment").first()
    device = services.device_register(group=apartment, serial_number="SN-1", model="AV-01", actor=operator, on=TODAY)
    row = {r.feature.code: r for r in pool_status(group=tree["Dealer A1"], on=TODAY).counted}["virtual_numbers"]
    assert row.limit == 4
    _resident(tree, person, operator, virtual_numbers=4, mobile_apps=4)
    device_id = device.pk
    with pytest.raises(services.NeedsConfirmation):
        services.device_unregister(device=device, actor=operator, on=TODAY)
    assert LicenseBlock.objects.filter(device_id=device_id).exists()  # nothing removed
    with pytest.raises(ValidationError) as exc:
        services.device_register(group=apartment, serial_number="sn-1", model="AV-01", actor=operator)
    assert "serial_number" in exc.value.error_dict


def test_restriction_off_gives_the_blocks_back_to_the_owner(company, tree, operator):
    give(tree["Dealer A1"], block(60, 50, days=100), actor=operator)
    give(tree["Site A1"], block(30, 30, days=50), actor=operator)
    give(tree["Dealer A2"], block(40, 30, days=100), actor=operator)
    # Dealer A1 off: Company A would own Site A1 (30) beside Dealer A2 (40): fits 100.
    give(tree["Dealer A1"], actor=operator, restricted=False)
    assert pools.pool_owner(tree["Site A1"]) == company
    held = {r.feature.code: r for r in pool_status(group=company, on=TODAY).counted}["virtual_numbers"].held
    assert held == 70


def test_a_move_that_breaks_a_pool_is_refused(company, tree, person, operator):
    give(tree["Dealer A1"], block(10, 10, days=100), actor=operator)
    give(tree["Dealer A2"], block(2, 2, days=100), actor=operator)
    _resident(tree, person, operator, virtual_numbers=5)
    building = tree["Site A1"].get_children().first()
    with pytest.raises(ValidationError) as exc:
        group_services.group_move(group=building, new_parent=tree["Site A2"], actor=operator)
    assert "would break a pool" in " ".join(exc.value.messages)
    building.refresh_from_db()
    assert building.parent_id == tree["Site A1"].pk


def test_tampered_block_ids_are_refused(company, tree, operator):
    give(tree["Dealer A1"], block(10, 10, days=100), actor=operator)
    give(tree["Dealer A2"], block(10, 10, days=100), actor=operator)
    foreign = LicenseBlock.objects.get(group=tree["Dealer A2"])
    with pytest.raises(ValidationError):
        give(tree["Dealer A1"], block(1, 1, days=10, id=foreign.pk), actor=operator)
    with pytest.raises(ValidationError):
        give(tree["Dealer A1"], actor=operator, delete_ids=[foreign.pk])
    assert LicenseBlock.objects.filter(pk=foreign.pk).exists()
