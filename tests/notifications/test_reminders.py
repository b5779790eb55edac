from datetime import date, timedelta
from smtplib import SMTPException
from unittest import mock

import pytest

from groups.models import Role
from licenses.models import LicenseBlock
from notifications import services
from notifications.models import Notification, ReminderLedger
from tests.licenses.helpers import block, company_pool, give

START = date(2027, 1, 1)
END = date(2027, 3, 31)


@pytest.fixture
def setup(tree, operator, person):
    """Dealer A1 holds a block ending 2027-03-31; reminders weekly, 14 days before, and on expiry."""
    company_pool(tree, actor=operator, start=START)
    admin = person(Role.SITE_ADMIN, tree["Dealer A1"], email="admin-a1@test.example")
    give(tree["Dealer A1"], block(10, 10, start=START, until=END), actor=operator, on=START,
         reminder_enabled=True, reminder_days=14, recurrence="weekly", notify_expired=True)
    return admin


def sent_on(day):
    result = services.send_license_reminders(on=day)
    return [a for a in result.actions if a.status == "sent"]


def test_each_reminder_day_sends_once(setup, mailoutbox):
    assert sent_on(date(2027, 3, 16)) == []
    first = sent_on(date(2027, 3, 17))
    assert [(a.recipient, a.kind, a.day) for a in first] == [("admin-a1@test.example", "expiring", date(2027, 3, 17))]
    assert sent_on(date(2027, 3, 17)) == []  # a rerun the same day
    assert sent_on(date(2027, 3, 18)) == []  # not a reminder day
    assert len(sent_on(date(2027, 3, 24))) == 1
    assert len(sent_on(date(2027, 3, 31))) == 1
    expired = sent_on(date(2027, 4, 1))
    assert [a.kind for a in expired] == ["expired"]
    assert sent_on(date(2027, 4, 2)) == []
    assert len(mailoutbox) == 4
    assert "Dealer A1" in mailoutbox[0].subject and "/licenses/groups/" in mailoutbox[0].body
    assert mailoutbox[0].alternatives[0][1] == "text/html"
    assert ReminderLedger.objects.count() == 4
    assert LicenseBlock.objects.get(group__name="Dealer A1").last_notified_at is not None


def test_after_an_outage_only_the_latest_is_sent(setup, mailoutbox):
    actions = sent_on(date(2027, 3, 30))  # the beat was down since before the 17th
    assert [a.day for a in actions] == [date(2027, 3, 24)]
    assert len(mailoutbox) == 1
    assert len(sent_on(date(2027, 3, 31))) == 1


def test_recipients_are_the_nearest_administrators(setup, tree, person, mailoutbox):
    # Site A1 has no administrator: its block's reminders go to Dealer A1's.
    give(tree["Site A1"], block(2, 2, start=START, until=date(2027, 3, 20)), actor=setup, on=START,
         reminder_enabled=True, reminder_days=1, recurrence="once")
    actions = [a for a in sent_on(date(2027, 3, 19)) if a.group_id == tree["Site A1"].pk]
    assert [a.recipient for a in actions] == ["admin-a1@test.example"]


def test_mail_follows_the_recipients_language(setup, mailoutbox):
    setup.language = "uk"
    setup.save()
    sent_on(date(2027, 3, 17))
    assert "Ліцензії групи Dealer A1" in mailoutbox[0].subject


def test_smtp_failure_is_never_lost_never_doubled(setup, mailoutbox):
    with mock.patch("django.core.mail.message.EmailMessage.send", side_effect=SMTPException("down")):
        result = services.send_license_reminders(on=date(2027, 3, 17))
    assert result.failures
    # The ledger says it was tried and why, and that it is not sent.
    [row] = ReminderLedger.objects.all()
    assert (row.sent_at, row.attempts, row.last_error) == (None, 1, "SMTPException: down")
    assert [a.status for a in services.send_license_reminders(on=date(2027, 3, 17), dry_run=True).actions] \
        == ["would send"]
    assert sent_on(date(2027, 3, 17))  # the retry sends it
    assert sent_on(date(2027, 3, 17)) == []
    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert row.sent_at is not None and (row.attempts, row.last_error) == (2, "")


def test_a_resent_reminder_is_the_same_message(setup, mailoutbox):
    """The Message-ID comes from what the mail claims: were it sent again after a crash between
    the SMTP server's reply and the commit, the mailbox would see the same message."""
    sent_on(date(2027, 3, 17))
    first = mailoutbox[0].extra_headers["Message-ID"]
    # As if the claim and what followed it had been rolled back by the crash:
    ReminderLedger.objects.all().delete()
    LicenseBlock.objects.update(next_reminder_on=date(2027, 3, 17))
    assert len(sent_on(date(2027, 3, 17))) == 1
    assert mailoutbox[1].extra_headers["Message-ID"] == first
    assert mailoutbox[1].message()["Message-ID"] == first and first.startswith("<reminder.")
    # The next week's reminder is another message.
    assert len(sent_on(date(2027, 3, 24))) == 1
    assert mailoutbox[2].extra_headers["Message-ID"] != first


def test_notifications_show_in_the_web_ui(setup, client):
    sent_on(date(2027, 3, 17))
    assert Notification.objects.filter(user=setup, read_at__isnull=True).count() == 1
    client.force_login(setup)
    page = client.get("/notifications/").content.decode()
    assert "Dealer A1" in page and 'aria-label="1 unread"' in page
    client.post("/notifications/read/")
    assert not Notification.objects.filter(user=setup, read_at__isnull=True).exists()


def test_dry_run_sends_nothing(setup, mailoutbox):
    result = services.send_license_reminders(on=date(2027, 3, 17), dry_run=True)
    assert [a.status for a in result.actions] == ["would send"]
    assert mailoutbox == [] and not ReminderLedger.objects.exists()


def test_changing_settings_reschedules(setup, tree, operator, mailoutbox):
    dealer_block = LicenseBlock.objects.get(group=tree["Dealer A1"])
    assert dealer_block.next_reminder_on == date(2027, 3, 17)
    give(tree["Dealer A1"], actor=operator, on=START, reminder_enabled=True, reminder_days=30, recurrence="once")
    dealer_block.refresh_from_db()
    assert dealer_block.next_reminder_on == END - timedelta(days=30)


def test_blocks_of_a_group_without_restriction_are_not_reminded(setup, tree, operator, mailoutbox):
    give(tree["Dealer A1"], actor=operator, on=START, restricted=False, reminder_enabled=True, reminder_days=14,
         recurrence="weekly")
    assert sent_on(date(2027, 3, 17)) == []
    assert mailoutbox == []


def test_a_catch_up_after_the_end_sends_no_expiring_mail_when_expired_notices_are_off(tree, operator, person,
                                                                                      mailoutbox):
    """From the day after a block's end it gets only the expired notice (if on), never an 'expiring' one."""
    company_pool(tree, actor=operator, start=START)
    person(Role.SITE_ADMIN, tree["Dealer A1"], email="admin-a1@test.example")
    give(tree["Dealer A1"], block(10, 10, start=START, until=END), actor=operator, on=START,
         reminder_enabled=True, reminder_days=14, recurrence="daily", notify_expired=False)
    assert sent_on(END + timedelta(days=3)) == []  # the beat was down over the last reminder days
    assert mailoutbox == []


def test_one_mail_lists_the_expiring_and_the_expired_blocks_of_a_group_due_the_same_day(setup, tree, operator,
                                                                                        mailoutbox):
    dealer = tree["Dealer A1"]
    ending = LicenseBlock.objects.get(group=dealer)
    other_end = END + timedelta(days=14)
    give(dealer, block(10, 10, start=START, until=END, id=ending.pk, key="a"),
         block(5, 5, start=START, until=other_end, key="b"), actor=operator, on=START,
         reminder_enabled=True, reminder_days=14, recurrence="once", notify_expired=True)
    actions = sent_on(END + timedelta(days=1))  # the first block's expired day is the second's reminder day
    assert sorted(a.kind for a in actions) == ["expired", "expiring"]
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    assert "are coming to their end" in body and "have expired" in body
    assert str(END) in body and str(other_end) in body
    assert Notification.objects.filter(group=dealer).count() == 1


def test_with_no_administrator_up_the_tree_the_server_administrators_are_told(tree, operator, mailoutbox):
    """A reminder is never skipped: 'Once' with nobody to tell used to be lost for good."""
    company_pool(tree, actor=operator, start=START)
    give(tree["Dealer A1"], block(10, 10, start=START, until=END), actor=operator, on=START,
         reminder_enabled=True, reminder_days=14, recurrence="once", notify_expired=False)
    actions = sent_on(END - timedelta(days=14))
    assert [(a.recipient, a.kind) for a in actions] == [(operator.email, "expiring")]
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [operator.email]
