"""The what-if of a change that takes licenses away: computed by the change itself, nothing kept
until confirmed, and a confirmation valid only for the what-if the person saw."""

from datetime import timedelta

import pytest
import time_machine

from groups.models import Role
from licenses import services
from licenses.models import Grant, LicenseBlock, PoolSettings
from licenses.selectors import pool_status
from tests.licenses.helpers import TODAY, block, drop_trials, give


@pytest.fixture
def dealer(tree, operator):
    drop_trials()
    give(tree["Company A"], block(100, 100, days=365), actor=operator)
    give(tree["Dealer A1"], block(10, 10, days=100), actor=operator)
    return tree["Dealer A1"]


def _resident(tree, person, operator, n, **quantities):
    apartment = tree["Site A1"].get_descendants().filter(kind="apartment")[n]
    return services.grant_set(group=apartment, user=person(Role.RESIDENT, apartment), quantities=quantities,
                              actor=operator, on=TODAY)


def _save(group, *blocks, actor, **kwargs):
    return services.licenses_save(group=group, settings=services.SettingsInput(restricted=True), blocks=list(blocks),
                                  actor=actor, on=TODAY, **kwargs)


def _state():
    return (sorted(LicenseBlock.objects.values_list("pk", "valid_until", "next_reminder_on")),
            sorted(Grant.objects.values_list("pk", "suspended_at")))


def test_lowering_is_held_with_what_it_takes_and_who_is_suspended_in_order(dealer, tree, person, operator):
    with time_machine.travel("2027-01-10 09:00"):
        first = _resident(tree, person, operator, 0, virtual_numbers=4)
    with time_machine.travel("2027-01-10 10:00"):
        second = _resident(tree, person, operator, 1, virtual_numbers=4, mobile_apps=2)
    own = LicenseBlock.objects.get(group=dealer)
    before = _state()

    result = _save(dealer, block(5, 5, days=100, id=own.pk), actor=operator, ask_first=True)

    assert result.held and _state() == before  # nothing kept
    what = result.what_if
    assert [(x.pool, x.feature.code, x.start, x.end, x.before, x.after, x.residents) for x in what.losses] == [
        (dealer, "virtual_numbers", TODAY, TODAY + timedelta(days=99), 10, 5, 4),  # residents: after the suspension
        (dealer, "mobile_apps", TODAY, TODAY + timedelta(days=99), 10, 5, 0)]
    assert [(s.grant.pk, s.day) for s in what.suspensions] == [(second.pk, TODAY)]  # newest first
    assert [(f.code, q) for f, q in what.suspensions[0].quantities] == [("virtual_numbers", 4), ("mobile_apps", 2)]
    assert first.pk not in [s.grant.pk for s in what.suspensions]

    # Confirmed with the fingerprint of that what-if: saved, the grant suspended.
    done = _save(dealer, block(5, 5, days=100, id=own.pk), actor=operator, confirmed=what.fingerprint)
    assert not done.held and [g.pk for g in done.suspended] == [second.pk]
    assert Grant.objects.get(pk=second.pk).is_suspended
    assert pool_status(group=dealer, on=TODAY).blocks[0].block.quantities.get(feature__code="virtual_numbers").quantity == 5


def test_a_confirmation_of_another_what_if_is_held_again(dealer, tree, person, operator):
    _resident(tree, person, operator, 0, virtual_numbers=4)
    own = LicenseBlock.objects.get(group=dealer)
    seen = _save(dealer, block(5, 5, days=100, id=own.pk), actor=operator, ask_first=True).what_if
    # Meanwhile another resident is granted: lowering now suspends someone else too.
    _resident(tree, person, operator, 1, virtual_numbers=4)
    before = _state()
    again = _save(dealer, block(5, 5, days=100, id=own.pk), actor=operator, confirmed=seen.fingerprint)
    assert again.held and again.what_if.fingerprint != seen.fingerprint and _state() == before
    assert len(again.what_if.suspensions) == 1


def test_shortening_suspends_on_the_later_day_and_moves_the_reminder(tree, operator, person):
    drop_trials()
    give(tree["Company A"], block(100, 100, days=365), actor=operator)
    give(tree["Dealer A1"], block(10, 10, days=100), actor=operator, reminder_enabled=True, reminder_days=14)
    dealer = tree["Dealer A1"]
    grant = _resident(tree, person, operator, 0, virtual_numbers=3)
    own = LicenseBlock.objects.get(group=dealer)
    old_reminder = own.next_reminder_on
    settings = services.SettingsInput(restricted=True, reminder_enabled=True, reminder_days=14)
    result = services.licenses_save(group=dealer, settings=settings, blocks=[block(10, 10, days=50, id=own.pk)],
                                    actor=operator, on=TODAY, ask_first=True)
    assert result.held
    what = result.what_if
    assert {(x.feature.code, x.start, x.end, x.before, x.after) for x in what.losses} == {
        ("virtual_numbers", TODAY + timedelta(days=50), TODAY + timedelta(days=99), 10, 0),
        ("mobile_apps", TODAY + timedelta(days=50), TODAY + timedelta(days=99), 10, 0)}
    # The resident loses the grant on the first day after the shortened block, by the sweep.
    assert [(s.grant.pk, s.day) for s in what.suspensions] == [(grant.pk, TODAY + timedelta(days=50))]
    [reminder] = what.reminders
    assert (reminder.before, reminder.after) == (old_reminder, TODAY + timedelta(days=49 - 14))
    assert LicenseBlock.objects.get(pk=own.pk).next_reminder_on == old_reminder  # not kept


def test_deleting_and_switching_restriction_off_are_held_too(dealer, operator):
    own = LicenseBlock.objects.get(group=dealer)
    deleted = services.licenses_save(group=dealer, settings=services.SettingsInput(restricted=True), blocks=[],
                                     delete_ids=[own.pk], actor=operator, on=TODAY, ask_first=True)
    assert deleted.held and {x.feature.code for x in deleted.what_if.losses} == {"virtual_numbers", "mobile_apps"}
    assert LicenseBlock.objects.filter(pk=own.pk).exists()

    off = services.licenses_save(group=dealer, settings=services.SettingsInput(restricted=False), blocks=[],
                                 actor=operator, on=TODAY, ask_first=True)
    assert off.held and off.what_if.closes == dealer and off.what_if.shared_with.name == "Company A"
    assert PoolSettings.objects.get(group=dealer).restricted


def test_a_change_that_takes_nothing_away_is_saved_at_once(dealer, operator):
    own = LicenseBlock.objects.get(group=dealer)
    result = _save(dealer, block(12, 10, days=120, id=own.pk), actor=operator, ask_first=True)
    assert not result.held and not result.what_if.takes_away
    assert LicenseBlock.objects.get(pk=own.pk).valid_until == TODAY + timedelta(days=119)
