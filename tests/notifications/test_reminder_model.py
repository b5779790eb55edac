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
from tests.licenses.helpers import block, company_pool, give

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
    company_pool(tree, actor=operator, start=START, days=400)
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


# --- a year and more, several blocks, administrators coming and going ------------------------

YEAR = 400
CHAIN = ["Site A1", "Dealer A1", "Company A"]  # a group, then its ancestors, nearest first
PEOPLE = ["ann@test.example", "bob@test.example", "admin-a1@test.example"]
ROLE_AT = {"Company A": Role.COMPANY_ADMIN, "Dealer A1": Role.SITE_ADMIN, "Site A1": Role.SITE_ADMIN}


def model_recipients(group: str, admins: set[tuple[str, str]]) -> list[str]:
    """The administrators of the group, or of its nearest ancestor that has some; else the server
    administrators."""
    for where in CHAIN[CHAIN.index(group):]:
        here = sorted(who for who, at in admins if at == where)
        if here:
            return here
    return ["operator@test.example"]


@settings(max_examples=60 if NIGHTLY else 6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    ends=st.lists(st.tuples(st.sampled_from(["Dealer A1", "Site A1"]), st.integers(5, YEAR - 20)),
                  min_size=1, max_size=4),
    before=st.integers(1, 45), recurrence=st.sampled_from(["once", "daily", "weekly", "every_30_days"]),
    reminder_on=st.booleans(), notify_expired=st.booleans(),
    first_admins=st.sets(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(CHAIN)), max_size=2),
    events=st.lists(st.tuples(st.integers(0, YEAR - 1), st.booleans(), st.integers(0, 5),
                              st.sampled_from(PEOPLE), st.sampled_from(CHAIN)), max_size=10),
    outages=st.lists(st.tuples(st.integers(0, YEAR - 1), st.integers(1, 40)), max_size=3),
)
def test_a_year_of_sweeps_with_administrators_coming_and_going(world, operator, ends, before, recurrence,
                                                               reminder_on, notify_expired, first_admins, events,
                                                               outages):
    """Over 400 days: each reminder due goes out once, to whoever administers the group (or the
    nearest ancestor with administrators, or the server administrators) on the day it goes out;
    one mail per recipient, group and day, listing every block due."""
    from django.core import mail as outbox

    from groups.models import Membership, User
    from tests.factories import UserFactory

    reminder = {"reminder_enabled": reminder_on, "reminder_days": before, "recurrence": recurrence,
                "notify_expired": notify_expired}
    with transaction.atomic():
        people = {email: User.objects.filter(email=email).first() or UserFactory(email=email) for email in PEOPLE}
        Membership.objects.filter(group__tree_id=world["Company A"].tree_id).delete()
        admins = set(first_admins)  # maybe nobody: the server administrators hear then
        for who, where in admins:
            Membership.objects.create(user=people[who], group=world[where], role=ROLE_AT[where])
        # The dealer holds a block for the whole year (as long as the company's); others end on random days.
        by_group: dict[str, list] = {"Dealer A1": [block(50, 50, start=START, days=YEAR, key="long")],
                                     "Site A1": []}
        for n, (where, length) in enumerate(ends):
            by_group[where].append(block(1, 1, start=START, days=length, key=f"b{n}"))
        give(world["Dealer A1"], *by_group["Dealer A1"], actor=operator, on=START, **reminder)
        if by_group["Site A1"]:
            give(world["Site A1"], *by_group["Site A1"], actor=operator, on=START, **reminder)
        blocks = {b.pk: (b.group.name, b.valid_until) for b in LicenseBlock.objects.filter(
            group__name__in=["Dealer A1", "Site A1"]).select_related("group")}
        schedules = {pk: model_days(end, before, recurrence, reminder_on, notify_expired)
                     for pk, (_g, end) in blocks.items()}
        down = {day + n for day, days in outages for n in range(days)}
        handled: set[tuple[int, date]] = set()
        expected_sent, expected_mails, sent, mails = [], {}, [], {}
        outbox.outbox.clear()
        for n in range(YEAR):
            today = START + timedelta(days=n)
            for day, add, index, who, where in events:
                if day != n:
                    continue
                if not add and admins:  # remove one of those who administer now
                    who, where = sorted(admins)[index % len(admins)]
                if add:
                    Membership.objects.get_or_create(user=people[who], group=world[where],
                                                     defaults={"role": ROLE_AT[where]})
                    admins.add((who, where))
                else:
                    Membership.objects.filter(user=people[who], group=world[where]).delete()
                    admins.discard((who, where))
            if n in down:
                continue
            # The model: per block, the latest reminder due (after its end only the expired notice),
            # unless handled; it goes to today's recipients of the block's group, one mail per group.
            due_groups: dict[str, list] = {}
            for pk, (group_name, end) in sorted(blocks.items()):
                due = [(d, k) for d, k in schedules[pk] if d <= today and (k == "expired" or today <= end)]
                if due and (pk, due[-1][0]) not in handled:
                    handled.add((pk, due[-1][0]))
                    due_groups.setdefault(group_name, []).append((pk, due[-1]))
            for group_name, items in due_groups.items():
                for recipient in model_recipients(group_name, admins):
                    expected_sent += [(pk, d, k, recipient) for pk, (d, k) in items]
                    expected_mails[(n, recipient)] = expected_mails.get((n, recipient), 0) + 1
            outbox.outbox.clear()
            sent += [(a.block_id, a.day, a.kind, a.recipient) for a in
                     services.send_license_reminders(on=today).actions if a.status == "sent"]
            for message in outbox.outbox:
                for to in message.to:
                    mails[(n, to)] = mails.get((n, to), 0) + 1
        assert sorted(sent) == sorted(expected_sent)
        assert len(set(sent)) == len(sent), "a reminder went out twice"
        assert mails == expected_mails, "one mail per recipient, group and day"
        transaction.set_rollback(True)
