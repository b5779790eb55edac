from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from hypothesis import given
from hypothesis import strategies as st

from licenses import schedule
from licenses.services import today

END = date(2027, 3, 31)


def days(recurrence, n=14, expired=False):
    return [(d.isoformat(), k) for d, k in schedule.reminder_days(END, n, recurrence, expired)]


def test_once():
    assert days("once") == [("2027-03-17", "expiring")]


def test_daily_runs_to_the_last_valid_day():
    out = days("daily", n=3)
    assert out == [("2027-03-28", "expiring"), ("2027-03-29", "expiring"), ("2027-03-30", "expiring"),
                   ("2027-03-31", "expiring")]


def test_weekly_and_every_30_days_stop_before_the_end():
    assert days("weekly", n=14) == [("2027-03-17", "expiring"), ("2027-03-24", "expiring"), ("2027-03-31", "expiring")]
    assert days("every_30_days", n=65) == [("2027-01-25", "expiring"), ("2027-02-24", "expiring"),
                                           ("2027-03-26", "expiring")]


def test_notify_expired_adds_the_first_expired_day():
    assert days("once", expired=True)[-1] == ("2027-04-01", "expired")


def test_after_an_outage_only_the_latest_due_is_sent():
    assert schedule.latest_due(END, 14, "daily", True, date(2027, 3, 25)) == (date(2027, 3, 25), "expiring")
    assert schedule.latest_due(END, 14, "weekly", True, date(2027, 3, 30)) == (date(2027, 3, 24), "expiring")
    assert schedule.latest_due(END, 14, "weekly", True, date(2027, 5, 1)) == (date(2027, 4, 1), "expired")
    assert schedule.latest_due(END, 14, "weekly", True, date(2027, 3, 16)) is None
    assert schedule.latest_due(END, 14, "weekly", True, date(2027, 3, 30), reminder_on=False) is None


@given(st.integers(1, 365), st.sampled_from(["once", "daily", "weekly", "every_30_days"]), st.booleans())
def test_every_reminder_day_lies_in_the_window(n, recurrence, expired):
    out = schedule.reminder_days(END, n, recurrence, expired)
    assert out[0][0] == date.fromordinal(END.toordinal() - n)
    assert all(d <= END for d, k in out if k == "expiring")
    assert [d for d, _k in out] == sorted({d for d, _k in out})


def test_license_days_are_kyiv_days_across_dst():
    kyiv = ZoneInfo("Europe/Kyiv")
    # 2027-03-28: clocks go from 03:00 to 04:00 in Kyiv; 2027-10-31: back from 04:00 to 03:00.
    for moment, expected in [
        (datetime(2027, 3, 27, 23, 30, tzinfo=kyiv), date(2027, 3, 27)),
        (datetime(2027, 3, 28, 0, 10, tzinfo=kyiv), date(2027, 3, 28)),
        (datetime(2027, 10, 30, 23, 59, tzinfo=kyiv), date(2027, 10, 30)),
        (datetime(2027, 10, 31, 0, 5, tzinfo=kyiv), date(2027, 10, 31)),
    ]:
        with time_machine.travel(moment, tick=False):
            assert today() == expected
