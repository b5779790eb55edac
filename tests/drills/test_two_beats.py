"""Drill 4: two beats started by mistake, so each sweep is enqueued twice (or more) and run by
two workers at once on the broker. The ledger's unique key makes the second sweep wait on the
first one's claim and skip it: nothing doubles, in the ledger or in anyone's mailbox."""

import re
import time
from datetime import date

import pytest

from groups.models import Role

from .conftest import DAY, assert_each_once, delivered, enqueue_sweep, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.drill, pytest.mark.django_db(transaction=True)]


def sweeps_run(worker) -> int:
    return len(re.findall(r"Task notifications\.tasks\.send_license_reminders\[[^]]+\] succeeded", worker.text()))


def test_the_same_sweep_enqueued_twice_and_run_by_two_workers_at_once_sends_each_once(
        due_groups, private_redis, celery_procs, mail_dir):
    expected = due_groups(6, 2)  # 12 reminders
    slow = {"DRILL_MAIL_DELAY": "0.15"}  # about 2 s a sweep: the two overlap
    w1 = celery_procs.worker("w1", private_redis.url, ready=False, **slow)
    w2 = celery_procs.worker("w2", private_redis.url, ready=False, **slow)
    for w in (w1, w2):
        wait_for(lambda w=w: f"{w.name}@drill ready." in w.text(), 60, f"{w.name} to be ready", procs=[w])
    enqueue_sweep(private_redis.url, DAY)
    enqueue_sweep(private_redis.url, DAY)
    wait_for(lambda: sweeps_run(w1) + sweeps_run(w2) == 2, 60, "both sweeps to finish", procs=[w1, w2])
    assert sweeps_run(w1) == sweeps_run(w2) == 1, "each worker must have run one of the two sweeps"
    assert_each_once(expected, mail_dir)
    by_pid = {m["pid"] for m in delivered(mail_dir)}
    print(f"\ntwo workers at once: {len(delivered(mail_dir))} mails for {len(expected)} reminders, "
          f"sent by {len(by_pid)} worker(s)")


def test_two_real_beats_firing_every_second_double_nothing(due_groups, private_redis, celery_procs, mail_dir):
    """Two `celery beat` processes whose reminder entry fires every second for DAY (the drills'
    worker settings; production fires it at 08:00 for today), and two workers, for 6 seconds."""
    expected = due_groups(6, 2)
    w1 = celery_procs.worker("w1", private_redis.url, ready=False, DRILL_MAIL_DELAY="0.1")
    w2 = celery_procs.worker("w2", private_redis.url, ready=False, DRILL_MAIL_DELAY="0.1")
    for w in (w1, w2):
        wait_for(lambda w=w: f"{w.name}@drill ready." in w.text(), 60, f"{w.name} to be ready", procs=[w])
    beat_env = {"DRILL_BEAT_EVERY": "1", "DRILL_BEAT_DAY": DAY.isoformat()}
    beats = [celery_procs.beat("beat1", private_redis.url, **beat_env),
             celery_procs.beat("beat2", private_redis.url, **beat_env)]
    sent_by = {}
    wait_for(lambda: all("Sending due task send-license-reminders" in b.text() for b in beats), 60,
             "both beats to fire", procs=beats)
    time.sleep(6)
    for beat in beats:
        assert beat.poll() is None, f"{beat.name} exited:\n{beat.log_tail()}"
        sent_by[beat.name] = beat.text().count("Sending due task send-license-reminders")
        beat.stop()
    fired = sum(sent_by.values())
    wait_for(lambda: sweeps_run(w1) + sweeps_run(w2) >= fired, 60, f"the {fired} sweeps to run", procs=[w1, w2])
    wait_for(lambda: private_redis.backlog("celery") == (0, 0), 30, "the broker to have nothing left",
             procs=[w1, w2])
    assert all(n >= 3 for n in sent_by.values()), sent_by
    assert sweeps_run(w1) >= 1 and sweeps_run(w2) >= 1, "both workers must have run sweeps"
    assert_each_once(expected, mail_dir)
    print(f"\ntwo beats: fired {sent_by}, sweeps run w1={sweeps_run(w1)} w2={sweeps_run(w2)}, "
          f"{len(delivered(mail_dir))} mails for {len(expected)} reminders")


def test_two_expiry_sweeps_at_once_expire_and_suspend_each_once(tree, operator):
    """Two beats also enqueue the 00:05 expiry sweep twice; two workers run it at once. Each block
    is marked expired once (one history row), each resident past what is left is suspended once,
    and the pools are consistent afterwards."""
    from groups.models import Membership
    from licenses import expiry, integrity
    from licenses import services as license_services
    from licenses.models import Grant, LicenseBlock
    from tests.factories import UserFactory
    from tests.licenses.helpers import block, company_pool, give
    from tests.pg.test_concurrency import run_threads

    start, ends, day = date(2027, 1, 1), date(2027, 3, 10), date(2027, 3, 17)
    company_pool(tree, actor=operator, start=start)
    due = []
    for dealer, site in (("Dealer A1", "Site A1"), ("Dealer A2", "Site A2")):
        give(tree[dealer], block(10, 10, start=start, until=ends, key="big"),
             block(3, 3, start=start, until=date(2027, 12, 31), key="small"), actor=operator, on=start)
        due.append(LicenseBlock.objects.get(group=tree[dealer], valid_until=ends).pk)
        apartments = list(tree[site].get_descendants().filter(kind="apartment"))
        for i in range(8):  # 8 residents with a virtual number each; 3 fit once the big block ends
            resident = UserFactory(email=f"{site.replace(' ', '').lower()}-r{i}@test.example")
            apartment = apartments[i % len(apartments)]
            Membership.objects.create(user=resident, group=apartment, role=Role.RESIDENT)
            license_services.grant_set(group=apartment, user=resident, quantities={"virtual_numbers": 1},
                                       actor=operator, on=start)

    history_before = {pk: LicenseBlock.history.filter(id=pk).count() for pk in due}
    results: dict[int, list] = {}
    errors = run_threads(lambda i: results.__setitem__(i, expiry.expire_licenses(on=day)), 2)
    assert errors == []
    actions = [a for run in results.values() for a in run]
    expired = [a.block_id for a in actions if a.action == "expired"]
    suspended = [a.detail for a in actions if a.action == "suspended"]
    assert sorted(expired) == sorted(due), "each due block expired by exactly one of the two sweeps"
    assert len(suspended) == len(set(suspended)) == 10, suspended  # 5 per dealer, none twice
    assert Grant.objects.filter(suspended_at__isnull=False).count() == 10
    # One history row records each expiry, not two.
    assert {pk: LicenseBlock.history.filter(id=pk).count() - n for pk, n in history_before.items()} \
        == dict.fromkeys(due, 1)
    assert integrity.check(on=day) == []
    print(f"\ntwo expiry sweeps at once: {len(expired)} blocks expired, {len(suspended)} residents suspended, "
          f"split {[len(r) for r in results.values()]} actions between the two")
