"""Drill 3: the SMTP server refuses for a while, then comes back.

In process (no worker): the 08:00 sweep with its retries (Celery's eager apply runs them at
once, without the 30 s…30 min backoff), then later sweeps, with the day given as the beat and
the task give it. The server starts refusing in the middle of the first sweep."""

from datetime import timedelta

import pytest
from django.test import override_settings

from licenses.models import LicenseBlock
from notifications import services
from notifications.models import ReminderLedger
from notifications.tasks import RemindersFailed
from notifications.tasks import send_license_reminders as sweep_task

from .conftest import DAY, delivered, delivered_counts, ledger_keys, notification_counts
from .mailbackends import read_lines

pytestmark = [pytest.mark.postgres, pytest.mark.drill, pytest.mark.django_db(transaction=True)]
ACCEPTED_FIRST = 3  # the server accepts 3 mails, then refuses


@pytest.fixture
def refusing_smtp(mail_dir, tmp_path):
    flag = tmp_path / "smtp-refuses"
    with override_settings(EMAIL_BACKEND="tests.drills.mailbackends.DrillBackend", DRILL_MAIL_DIR=str(mail_dir),
                           DRILL_REFUSE_FLAG=str(flag), DRILL_REFUSE_AFTER=ACCEPTED_FIRST):
        yield flag


def test_mail_refused_for_a_while_goes_out_once_when_the_server_is_back(due_groups, refusing_smtp, mail_dir):
    expected = due_groups(4, 2)  # 8 reminders
    # 08:00: the beat's sweep; the server refuses after 3 mails; the task retries (8 times) and gives up.
    result = sweep_task.apply(args=[DAY.isoformat()])
    assert result.failed() and isinstance(result.result, RemindersFailed), (result.state, result.result)
    assert refusing_smtp.exists()
    sent_first = set(delivered_counts(mail_dir))
    assert len(sent_first) == ACCEPTED_FIRST
    refusals = len(read_lines(mail_dir / "refused.jsonl"))
    assert refusals >= (len(expected) - ACCEPTED_FIRST) * 9, refusals  # every mail, in each of the 9 runs

    # Meanwhile, what is kept: a ledger row (sent) for each mail that went and for nothing else,
    # an in-app notification for those only, and the other groups' blocks still due on DAY.
    assert ledger_keys() == dict.fromkeys(sent_first, 1)
    unsent = ReminderLedger.objects.filter(sent_at__isnull=True).select_related("recipient", "block")
    assert {(r.recipient.email, r.block.group_id) for r in unsent} == expected - sent_first
    assert {r.attempts for r in unsent} == {9}  # the 08:00 run and its 8 retries
    assert all("refused" in r.last_error.lower() or "closed" in r.last_error.lower() for r in unsent)
    assert notification_counts() == dict.fromkeys(sent_first, 1)
    waiting_groups = {g for _e, g in expected - sent_first}
    assert set(LicenseBlock.objects.filter(group_id__in=waiting_groups).values_list("next_reminder_on", flat=True)) \
        == {DAY}

    # Another sweep of the day while the server still refuses: nothing new, nothing lost.
    again = services.send_license_reminders(on=DAY)
    assert again.failures and set(delivered_counts(mail_dir)) == sent_first

    # The server is back. The next morning's beat sends the day's reminders still owed, once.
    refusing_smtp.unlink()
    next_morning = services.send_license_reminders(on=DAY + timedelta(days=1))
    assert next_morning.failures == []
    assert sum(a.status == "sent" for a in next_morning.actions) == len(expected) - ACCEPTED_FIRST
    # A late retry of DAY's task and a second beat the same morning: nothing more.
    assert sweep_task.apply(args=[DAY.isoformat()]).result == 0
    assert services.send_license_reminders(on=DAY + timedelta(days=1)).actions == []

    counts = delivered_counts(mail_dir)
    assert set(counts) == expected and all(n == 1 for n in counts.values()), counts
    assert ledger_keys() == dict.fromkeys(expected, 1)
    assert set(ReminderLedger.objects.values_list("day", flat=True)) == {DAY}
    assert notification_counts() == dict.fromkeys(expected, 1)
    print(f"\nSMTP outage: {len(delivered(mail_dir))} mails for {len(expected)} reminders, {refusals} refused "
          f"attempts during the first run and its retries")


def test_the_ledger_shows_the_refused_attempts_meanwhile(due_groups, refusing_smtp, mail_dir):
    """What the server administrator sees on the ledger page while the server refuses."""
    expected = due_groups(2, 1)
    refusing_smtp.touch()
    services.send_license_reminders(on=DAY)
    services.send_license_reminders(on=DAY)
    rows = {(r.recipient.email, r.block.group_id): r for r in ReminderLedger.objects.select_related("recipient", "block")}
    assert set(rows) == expected
    assert all(r.sent_at is None and r.attempts == 2 and "refused" in r.last_error.lower() for r in rows.values())
