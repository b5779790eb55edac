"""Drill 1: Redis (the broker) stops, or hangs, while administrators save licenses.

What must hold: the save succeeds and commits at once (its enqueue fails fast and is logged),
and once Redis is back the next sweep sends every reminder due, each exactly once."""

import signal
import time
from datetime import timedelta

import pytest

from groups import services as group_services
from groups.models import Group, Role
from licenses import services as license_services
from licenses.models import LicenseBlock
from tests.licenses.helpers import block, company_pool, give

from .conftest import (
    delivered_counts,
    enqueue_sweep,
    ledger_keys,
    notification_counts,
    wait_for,
    web_process_on,
)

pytestmark = [pytest.mark.postgres, pytest.mark.drill, pytest.mark.django_db(transaction=True)]
SAVE_LIMIT = 5.0  # seconds a save may take with the broker down or hung


@pytest.fixture
def dealers(tree, operator, person):
    """A company administrator, and four dealers of Company A, each with an administrator of its own."""
    today = license_services.today()
    company_pool(tree, actor=operator, start=today)
    admin = person(Role.COMPANY_ADMIN, tree["Company A"], email="ca@test.example")
    made = []
    for i in range(4):
        dealer = group_services.group_create(parent=tree["Company A"], name=f"Drill dealer {i}",
                                             kind=Group.Kind.DEALER, actor=operator)
        person(Role.SITE_ADMIN, dealer, email=f"d{i}@test.example")
        made.append(dealer)
    return admin, made, today


def save_through_the_form(client, dealer, today):
    """The Licenses form of `dealer`, saved with one block ending in 5 days: its daily reminder
    (14 days ahead) is due today, so the save hands today's sweep to the worker after commit."""
    started = time.monotonic()
    response = client.post(f"/licenses/groups/{dealer.pk}/", {
        "restricted": "on", "reminder_enabled": "on", "reminder_days": "14", "recurrence": "daily",
        "notify_expired": "on", "blocks-TOTAL_FORMS": "1", "blocks-INITIAL_FORMS": "0",
        "blocks-0-kind": "plus", "blocks-0-valid_from": today.isoformat(),
        "blocks-0-valid_until": (today + timedelta(days=5)).isoformat(),
        "blocks-0-f_virtual_numbers": "5", "blocks-0-f_mobile_apps": "5", "blocks-0-f_ukey2_keys": "0"})
    return response, time.monotonic() - started


def save_through_the_service(dealer, today, actor):
    started = time.monotonic()
    give(dealer, block(5, 5, start=today, days=6), actor=actor, on=today,
         reminder_enabled=True, reminder_days=14, recurrence="daily")
    return time.monotonic() - started


def expected_for(dealers_) -> set[tuple[str, int]]:
    return {(f"d{i}@test.example", d.pk) for i, d in enumerate(dealers_)}


def drained(broker, queue="celery") -> bool:
    return broker.backlog(queue) == (0, 0)


def test_saves_succeed_with_redis_stopped_and_each_reminder_goes_once_when_it_is_back(
        dealers, client, caplog, private_redis, celery_procs, mail_dir, operator):
    admin, (d0, d1, d2, d3), today = dealers
    client.force_login(admin)
    worker = celery_procs.worker("w1", private_redis.url)
    with web_process_on(private_redis.url):
        # Redis up: the save hands the sweep over, the worker sends d0's reminder.
        response, _ = save_through_the_form(client, d0, today)
        assert response.status_code == 302
        wait_for(lambda: delivered_counts(mail_dir)[("d0@test.example", d0.pk)], 30, "d0's reminder",
                 procs=[worker])

        private_redis.stop()
        caplog.clear()
        outage = time.monotonic()
        response, web_took = save_through_the_form(client, d1, today)
        assert response.status_code == 302, "the save with Redis stopped did not redirect as a success"
        page = client.get(response["Location"])  # what the administrator sees next: saved, no error
        assert page.status_code == 200 and "Licenses saved." in page.content.decode()
        service_took = save_through_the_service(d2, today, operator)
        # Committed: the worker, another process, reads them later; here the rows are there.
        assert LicenseBlock.objects.filter(group__in=[d1, d2], next_reminder_on=today).count() == 2
        assert web_took < SAVE_LIMIT and service_took < SAVE_LIMIT, (web_took, service_took)
        assert caplog.text.count("could not enqueue notifications.tasks.send_license_reminders") == 2
        assert delivered_counts(mail_dir).total() == 1, "nothing can have been sent with the broker down"

        private_redis.start()
        outage = time.monotonic() - outage
        # The worker lived through a short outage and reconnects by itself.
        time.sleep(1)
        assert worker.poll() is None, f"the worker died in a {outage:.1f} s outage:\n{worker.log_tail()}"
        # The next scheduled sweep (the hourly catch-up at :30) sends what the saves could not hand over.
        enqueue_sweep(private_redis.url, today)
        wait_for(lambda: {("d1@test.example", d1.pk), ("d2@test.example", d2.pk)} <= set(delivered_counts(mail_dir)),
                 40, "the reminders of the saves made during the outage", procs=[worker])
        # A save after Redis is back hands its sweep over again, through the same web app.
        caplog.clear()
        response, _ = save_through_the_form(client, d3, today)
        assert response.status_code == 302
        assert "could not enqueue" not in caplog.text
        wait_for(lambda: delivered_counts(mail_dir)[("d3@test.example", d3.pk)], 30, "d3's reminder", procs=[worker])
        wait_for(lambda: drained(private_redis), 30, "the queue to drain", procs=[worker])

    counts = delivered_counts(mail_dir)
    assert set(counts) == expected_for([d0, d1, d2, d3])
    assert all(n == 1 for n in counts.values()), counts
    assert ledger_keys() == dict.fromkeys(expected_for([d0, d1, d2, d3]), 1)
    assert notification_counts() == dict.fromkeys(expected_for([d0, d1, d2, d3]), 1)
    print(f"\nsave with Redis stopped: form {web_took:.2f} s, service {service_took:.2f} s; outage {outage:.1f} s; "
          f"mails {counts.total()}")


def test_a_save_with_redis_hung_waits_at_most_the_socket_timeout(dealers, client, caplog, private_redis,
                                                                 celery_procs, mail_dir):
    """Redis accepts connections but answers nothing (SIGSTOP): production's socket timeout (2 s)
    bounds the wait, the save commits; after Redis resumes, the sweep sends it once."""
    admin, (d0, d1, _d2, _d3), today = dealers
    client.force_login(admin)
    with web_process_on(private_redis.url):
        assert save_through_the_form(client, d0, today)[0].status_code == 302  # the pool's connection is made
        private_redis.proc.send_signal(signal.SIGSTOP)
        try:
            caplog.clear()
            response, took = save_through_the_form(client, d1, today)
        finally:
            private_redis.proc.send_signal(signal.SIGCONT)
    assert response.status_code == 302 and took < SAVE_LIMIT, took
    assert "could not enqueue" in caplog.text
    assert LicenseBlock.objects.filter(group=d1, next_reminder_on=today).exists()
    worker = celery_procs.worker("w1", private_redis.url)
    enqueue_sweep(private_redis.url, today)
    wait_for(lambda: set(delivered_counts(mail_dir)) == expected_for([d0, d1]), 30, "both reminders", procs=[worker])
    wait_for(lambda: drained(private_redis), 30, "the queue to drain", procs=[worker])
    counts = delivered_counts(mail_dir)
    assert all(n == 1 for n in counts.values()), counts
    assert ledger_keys() == dict.fromkeys(expected_for([d0, d1]), 1)
    print(f"\nsave with Redis hung: {took:.2f} s; sweeps run: {worker.text().count('succeeded in')}")


def test_a_worker_outlives_a_redis_outage_of_20_seconds(dealers, client, private_redis, celery_procs, mail_dir):
    """The worker keeps reconnecting (CELERY_BROKER_CONNECTION_MAX_RETRIES = None) instead of
    exiting after a few tries: nothing has to restart it once Redis is back."""
    admin, (d0, *_rest), today = dealers
    worker = celery_procs.worker("w1", private_redis.url)
    private_redis.stop()
    time.sleep(20)
    private_redis.start()
    time.sleep(2)
    assert worker.poll() is None, f"the worker exited during the outage:\n{worker.log_tail(8)}"
    client.force_login(admin)
    with web_process_on(private_redis.url):
        assert save_through_the_form(client, d0, today)[0].status_code == 302
    wait_for(lambda: delivered_counts(mail_dir)[("d0@test.example", d0.pk)], 30, "d0's reminder", procs=[worker])


def test_the_beats_sweep_falling_due_while_redis_is_down_goes_out_once_it_is_back(
        dealers, caplog, private_redis, celery_procs, mail_dir, operator):
    """No hand-made enqueue here: a real beat (its entry every 10 s) hands over one run with Redis
    up; Redis stops; the next run falls due in the outage, and the beat keeps trying to hand it
    over (the entries' retry_policy: the beat marks an entry run before publishing it, and with
    the default 3 tries that run was dropped); once Redis is back the worker sends the day's
    reminders, before the entry's next run."""
    _admin, (d0, d1, _d2, _d3), today = dealers
    worker = celery_procs.worker("w1", private_redis.url)
    beat = celery_procs.beat("beat1", private_redis.url, DRILL_BEAT_EVERY="10", DRILL_BEAT_DAY=today.isoformat())

    def fired() -> int:
        return beat.text().count("Sending due task send-license-reminders")

    wait_for(lambda: fired() == 1, 60, "the beat's first run, with Redis up", procs=[beat])
    private_redis.stop()
    with web_process_on(private_redis.url):
        save_through_the_service(d0, today, operator)
        save_through_the_service(d1, today, operator)
    assert caplog.text.count("could not enqueue") == 2
    wait_for(lambda: fired() == 2, 30, "the beat's next run, with Redis down", procs=[beat])
    time.sleep(3)  # the beat and the worker go on trying meanwhile
    assert delivered_counts(mail_dir).total() == 0
    assert beat.poll() is None and worker.poll() is None, beat.log_tail() + worker.log_tail()
    private_redis.start()
    wait_for(lambda: set(delivered_counts(mail_dir)) == expected_for([d0, d1]), 30,
             "the day's reminders after Redis came back", procs=[worker, beat])
    assert fired() == 2, "the reminders came with a later run of the entry, not the one that fell due in the outage"
    beat.stop()
    wait_for(lambda: drained(private_redis), 30, "the queue to drain", procs=[worker])
    counts = delivered_counts(mail_dir)
    assert all(n == 1 for n in counts.values()), counts
    assert ledger_keys() == dict.fromkeys(expected_for([d0, d1]), 1)
    print(f"\nbeat through an outage: the run that fell due in the outage was handed over once Redis was "
          f"back; {counts.total()} mails for 2 reminders")
