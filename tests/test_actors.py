"""Services authorise every caller: a person as themselves, sweeps and commands as SYSTEM, nobody as None."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from groups import services as group_services
from groups.models import Membership, Role
from groups.scoping import SYSTEM
from licenses import services
from licenses.models import LicenseBlock
from tests.licenses.helpers import TODAY, block, give


def test_a_missing_actor_is_refused_not_trusted(tree):
    with pytest.raises(TypeError):
        group_services.group_create(parent=tree["Site A1"], name="Ghost", kind="building", actor=None)
    with pytest.raises(TypeError):
        give(tree["Dealer A1"], block(1, 1, days=10), actor=None)
    assert not LicenseBlock.objects.filter(group=tree["Dealer A1"]).exists()


def test_the_system_acts_and_history_records_no_person(tree):
    building = group_services.group_create(parent=tree["Site A1"], name="By the sweep", kind="building",
                                           actor=SYSTEM)
    assert building.history.first().history_user is None


def test_a_dealer_cannot_add_a_basic_or_trial_block(tree, operator, dealer_admin):
    """Finding 5: Basic comes only with a device and Trial only with a new company."""
    give(tree["Company A"], block(100, 100, days=365, start=TODAY), actor=operator)
    give(tree["Dealer A1"], block(50, 50, days=365), actor=operator)
    for kind in ("basic", "trial"):
        with pytest.raises(ValidationError) as caught:
            give(tree["Site A1"], block(2, 2, days=10, kind=kind), actor=dealer_admin)
        assert "add a Plus block" in " ".join(caught.value.message_dict["b"])
    assert not LicenseBlock.objects.filter(group=tree["Site A1"]).exists()
    give(tree["Site A1"], block(2, 2, days=10, kind="plus"), actor=dealer_admin)
    assert LicenseBlock.objects.get(group=tree["Site A1"]).kind == "plus"


def test_only_the_operator_adds_other_kinds_and_only_at_a_root(tree, operator):
    assert services.allowed_block_kinds(operator, tree["Company A"]) == ["plus", "trial", "basic"]
    assert services.allowed_block_kinds(operator, tree["Dealer A1"]) == ["plus"]
    give(tree["Company A"], block(5, 5, days=10, kind="basic", key="extra"), actor=operator)


def test_an_existing_trial_block_can_still_be_shortened_by_its_owner(tree, operator):
    trial = LicenseBlock.objects.get(group=tree["Company A"], kind="trial")
    data = services.block_to_input(trial)
    data.valid_until = trial.valid_until - timedelta(days=1)
    services.licenses_save(group=tree["Company A"], settings=services.settings_input(tree["Company A"]),
                           blocks=[data], actor=operator)
    trial.refresh_from_db()
    assert trial.kind == "trial" and trial.valid_until == data.valid_until


def test_licenses_save_checks_scope_on_the_fresh_group(tree, operator, dealer_admin):
    """A stale copy of a group that has since moved out of the dealer's scope gives no way in."""
    site = tree["Site A1"]
    stale = tree["Site A1"]
    group_services.group_move(group=site, new_parent=tree["Dealer A2"], actor=operator)
    with pytest.raises(PermissionDenied):
        give(stale, block(1, 1, days=5), actor=dealer_admin)
    assert not LicenseBlock.objects.filter(group=site).exists()


def test_nobody_gives_a_role_above_their_own(tree, person, dealer_admin):
    concierge = person(Role.CONCIERGE, tree["Site A1"], email="c@test.example")
    with pytest.raises(ValidationError) as caught:
        group_services.membership_add(group=tree["Site A1"], user=concierge, role=Role.COMPANY_ADMIN,
                                      actor=dealer_admin)
    assert "role" in caught.value.message_dict
    group_services.membership_add(group=tree["Site A1"], user=concierge, role=Role.SITE_ADMIN, actor=dealer_admin)
    assert Membership.objects.filter(user=concierge, role=Role.SITE_ADMIN).exists()
