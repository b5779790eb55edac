"""The demo, run through a simulated year of daily sweeps, stays consistent every day."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from licenses import integrity, services
from licenses.expiry import expire_licenses
from licenses.models import Grant, LicenseBlock
from notifications.models import ReminderLedger
from notifications.services import send_license_reminders


@pytest.mark.django_db
def test_the_demo_survives_a_year_of_sweeps_with_a_clean_integrity_check():
    call_command("seed_demo", verbosity=0)
    start = services.today()
    for n in range(366):
        day = start + timedelta(days=n)
        expire_licenses(on=day)
        send_license_reminders(on=day)
        problems = integrity.check(on=day)
        assert not problems, (day, [p.as_dict() for p in problems])
    # The year was eventful: blocks ended, residents fell back, reminders went out once each.
    assert LicenseBlock.objects.filter(expired_at__isnull=False).exists()
    assert ReminderLedger.objects.filter(sent_at__isnull=False).count() == ReminderLedger.objects.count() > 0
    assert Grant.objects.exists()
