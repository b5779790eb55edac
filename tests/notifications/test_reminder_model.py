"""What the reminder sweeps send, day after day with outages, against a naive model of the schedule.

The model is written from the product's words, apart from `licenses/schedule.py`: the reminder
days of a block, at most the latest one due on each day the sweep runs, no "expiring" mail
after the end, every (block, day, recipient) at most once.
"""

import os
from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from groups.models import Role
from licenses.models import LicenseBlock
from notifications import services
from tests.licenses.helpers import block, give

START = date(2027, 1, 1)
DAYS = 150
STEP = {"daily": 1, "weekly": 7, "every_30_days": 30}


def model_days(end: date, before: int, recurrence: str, reminder_on: bool, notify_expired: bool):
    days = []
    if reminder_on:
        first = end - timedelta(days=before)
        if recurrence == "once":
            days.append((first, "expiring"))
        else:
            day = first
            while day <= end:
                days.append((day, "expiring"))
                day += timedelta(days=STEP[recurrence])
    if notify_expired:
        days.append((end + timedelta(days=1), "expired"))
    return days


def model_sends(schedule, run_days, end: date):
    """On each day the sweep runs: the latest reminder due (after the end, only the expired notice),
    unless it went out already."""
    sent = []
    for today in run_days:
        due = [(d, k) for d, k in schedule if d <= today and (k == "expired" or today <= end)]
        if due and due[-1] not in sent:
            sent.append(due[-1])
    return sent


@pytest.fixture
def world(tree, operator, person):
    LicenseBlock.objects.filter(kind="trial").delete()
    give(tree["Company A"], block(100, 100, start=START, days=400), actor=operator, on=START)
    person(Role.SITE_ADMIN, tree["Dealer A1"], email="admin-a1@test.example")
    return tree


NIGHTLY = os.environ.get("HYPOTHESIS_PROFILE") == "nightly"


# A catch-up after the end once sent an "expiring" mail (the beat down over the last reminder days).
@example(length=30, before=14, recurrence="daily", reminder_on=True, notify_expired=False, outages=[(-20, 25)])
@settings(max_examples=300 if NIGHTLY else 25, deadline=None, suppress_health_check=list(HealthCheck))
@given(length=st.integers(10, 90), before=st.integers(1, 40),
       recurrence=st.sampled_from(["once", "daily", "weekly", "every_30_days"]),
       reminder_on=st.booleans(), notify_expired=st.booleans(),
       outages=st.lists(st.tuples(st.integers(-50, 10), st.integers(1, 60)), max_size=3))
def test_the_sweeps_send_what_the_model_says_once_each(world, operator, length, before, recurrence, reminder_on,
                                                       notify_expired, outages):
    end = START + timedelta(days=length)
    with transaction.atomic():
        give(world["Dealer A1"], block(10, 10, start=START, until=end), actor=operator, on=START,
             reminder_enabled=reminder_on, reminder_days=before, recurrence=recurrence,
             notify_expired=notify_expired)
        # The beat was down: intervals placed around the block's end, where the schedule is busiest.
        down = {length + offset + n for offset, days in outages for n in range(days)}
        run_days = [START + timedelta(days=n) for n in range(DAYS) if n not in down]
        sent = []
        for today in run_days:
            sent += [(a.day, a.kind) for a in services.send_license_reminders(on=today).actions if a.status == "sent"]
        expected = model_sends(model_days(end, before, recurrence, reminder_on, notify_expired), run_days, end)
        assert sent == expected, (end, sent, expected)
        assert len(sent) == len(set(sent))
        transaction.set_rollback(True)
