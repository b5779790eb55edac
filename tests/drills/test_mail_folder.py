"""Drill: the mail folder of `make run` (file mail backend) cannot be written. The sweep logs the
cause, delivers nothing, keeps the reminders due, and catches up, once, when it can write again.

(This machine runs as root, which ignores file modes, so the folder is made unusable the way a
full or mis-mounted volume is: its path holds a plain file.)"""

import logging
from datetime import date
from pathlib import Path

import pytest

from groups.models import Role
from notifications import services
from notifications.models import ReminderLedger
from tests.licenses.helpers import block, company_pool, give

pytestmark = [pytest.mark.drill, pytest.mark.django_db]
START, DAY = date(2027, 1, 1), date(2027, 3, 17)


def _mails(folder: Path) -> list[str]:
    separator = "\n" + "-" * 79 + "\n"
    return [m for p in folder.glob("*.log") for m in p.read_text().split(separator) if m.strip()]


def test_an_unwritable_mail_folder_is_logged_and_the_sweep_catches_up(tree, operator, person, settings, tmp_path,
                                                                      caplog):
    company_pool(tree, actor=operator, start=START)
    give(tree["Dealer A1"], block(10, 10, start=START, until=date(2027, 3, 31)), actor=operator, on=START,
         reminder_enabled=True, reminder_days=14, recurrence="weekly")
    person(Role.SITE_ADMIN, tree["Dealer A1"], email="a1@test.example")
    folder = tmp_path / "mail"
    folder.write_text("not a folder")
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(folder)

    with caplog.at_level(logging.WARNING, logger="notifications.services"):
        result = services.send_license_reminders(on=DAY)
    assert result.failures and "a1@test.example" in result.failures[0]
    [line] = [r.getMessage() for r in caplog.records if "a1@test.example" in r.getMessage()]
    assert "exists, but is not a directory" in line  # the cause, in the log
    assert not ReminderLedger.objects.filter(sent_at__isnull=False).exists()

    folder.unlink()
    folder.mkdir()
    assert services.send_license_reminders(on=DAY).failures == []
    assert services.send_license_reminders(on=DAY).failures == []  # and again: nothing more
    mails = _mails(folder)
    assert len(mails) == 1 and "To: a1@test.example" in mails[0]
    assert ReminderLedger.objects.filter(sent_at__isnull=False).count() == 1
