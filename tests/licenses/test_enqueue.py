from datetime import timedelta
from unittest import mock

import pytest
from kombu.exceptions import OperationalError

from groups.models import Role
from licenses import services
from licenses.models import LicenseBlock
from tests.licenses.helpers import company_pool


@pytest.fixture
def admin_and_dealer(tree, operator, person):
    today = services.today()
    company_pool(tree, actor=operator, start=today)
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example")
    return admin, tree["Dealer A1"], today


def post_block(client, dealer, today, until):
    return client.post(f"/licenses/groups/{dealer.pk}/", {
        "restricted": "on", "reminder_enabled": "on", "reminder_days": "14", "recurrence": "daily",
        "notify_expired": "on", "blocks-TOTAL_FORMS": "1", "blocks-INITIAL_FORMS": "0",
        "blocks-0-kind": "plus", "blocks-0-valid_from": today.isoformat(), "blocks-0-valid_until": until.isoformat(),
        "blocks-0-f_virtual_numbers": "5", "blocks-0-f_mobile_apps": "5", "blocks-0-f_ukey2_keys": "0"})


def test_a_reminder_due_today_is_handed_to_the_worker_after_commit(admin_and_dealer, client,
                                                                   django_capture_on_commit_callbacks):
    admin, dealer, today = admin_and_dealer
    client.force_login(admin)
    with mock.patch("config.celery.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        assert post_block(client, dealer, today, today + timedelta(days=5)).status_code == 302
    send.assert_called_once_with("notifications.tasks.send_license_reminders", args=(today.isoformat(),), retry=False)


def test_nothing_is_enqueued_when_no_reminder_is_due(admin_and_dealer, client, django_capture_on_commit_callbacks):
    admin, dealer, today = admin_and_dealer
    client.force_login(admin)
    with mock.patch("config.celery.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        assert post_block(client, dealer, today, today + timedelta(days=100)).status_code == 302
    send.assert_not_called()


def test_saving_works_with_the_broker_down(admin_and_dealer, client, django_capture_on_commit_callbacks, caplog):
    admin, dealer, today = admin_and_dealer
    client.force_login(admin)
    with mock.patch("config.celery.app.send_task", side_effect=OperationalError("Connection refused")), \
            django_capture_on_commit_callbacks(execute=True):
        assert post_block(client, dealer, today, today + timedelta(days=5)).status_code == 302
    assert LicenseBlock.objects.filter(group=dealer).count() == 1
    assert "the next scheduled sweep will catch up" in caplog.text


def test_a_real_unreachable_broker_is_logged_not_raised(caplog):
    from celery import Celery

    from config import enqueue

    # A Celery app of its own, so no producer pool cached by other tests can hide the failure.
    down = Celery("down", broker="redis://127.0.0.1:1/0")  # nothing listens there
    down.conf.broker_transport_options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    down.conf.broker_connection_timeout = 1
    with mock.patch("config.celery.app", down):
        enqueue._send("notifications.tasks.send_license_reminders", ("2027-01-01",))
    assert "could not enqueue notifications.tasks.send_license_reminders" in caplog.text
