"""Drill 2: the Celery worker is SIGKILLed in the middle of a reminder sweep.

The sweep is late-acknowledged (CELERY_TASK_ACKS_LATE, prefetch 1): the message stays in Redis
as unacknowledged, and once the visibility timeout has passed another worker gets it and runs
the sweep again; the ledger skips what the first one committed. Production's visibility
timeout is 3600 s; the drill's workers use 3 s (tests/drills/worker_settings.py), so the
redelivery is the broker's own, not a re-enqueue by the test.

Where the kill lands decides what the SMTP server sees: before it accepted a mail, every mail
goes to it exactly once; after it accepted one and before the ledger row's COMMIT (the mail is
sent inside the claiming transaction, which the kill rolls back), that one mail is handed to it
again as the same message (the same Message-ID), never as a second, different reminder."""

import pytest

from .conftest import (
    DAY,
    assert_each_once,
    delivered,
    delivered_counts,
    enqueue_sweep,
    ledger_keys,
    mailbox_counts,
    notification_counts,
    wait_for,
)

pytestmark = [pytest.mark.postgres, pytest.mark.drill, pytest.mark.django_db(transaction=True)]
GROUPS, ADMINS = 8, 2  # 16 mails
HOLD_AT = 6  # the first worker is killed at its 6th mail
VISIBILITY = "3"


def kill_mid_sweep(private_redis, celery_procs, mail_dir, phase: str):
    """Run the day's sweep on worker w1, SIGKILL it at its HOLD_AT-th mail (`phase` "before" or
    "after" the SMTP server accepted it), start w2, wait until the broker has nothing left."""
    w1 = celery_procs.worker("w1", private_redis.url, DRILL_MAIL_DELAY="0.05", DRILL_HOLD_AT=str(HOLD_AT),
                             DRILL_HOLD_PHASE=phase, DRILL_VISIBILITY_TIMEOUT=VISIBILITY)
    enqueue_sweep(private_redis.url, DAY)
    wait_for(lambda: (mail_dir / "held").exists(), 60, f"w1 to reach its mail #{HOLD_AT}", procs=[w1])
    accepted_before_kill = len(delivered(mail_dir))
    w1.kill()
    # What is kept: the sweep's message, delivered to w1 and never acknowledged, is still in Redis.
    assert private_redis.backlog("celery") == (0, 1)
    w2 = celery_procs.worker("w2", private_redis.url, DRILL_MAIL_DELAY="0.05", DRILL_VISIBILITY_TIMEOUT=VISIBILITY)
    wait_for(lambda: "succeeded in" in w2.text(), 60, "w2 to run the redelivered sweep", procs=[w2])
    wait_for(lambda: private_redis.backlog("celery") == (0, 0), 30, "the broker to have nothing left", procs=[w2])
    return w1, w2, accepted_before_kill


def test_a_worker_killed_before_the_smtp_server_accepted_a_mail_loses_and_doubles_nothing(
        due_groups, private_redis, celery_procs, mail_dir):
    expected = due_groups(GROUPS, ADMINS)
    w1, w2, before_kill = kill_mid_sweep(private_redis, celery_procs, mail_dir, "before")
    assert before_kill == HOLD_AT - 1
    by_pid = {m["pid"] for m in delivered(mail_dir)}
    assert by_pid == {w1.pid, w2.pid}, "both workers must have sent part of the sweep"
    counts = assert_each_once(expected, mail_dir)
    print(f"\nkill before accept: {before_kill} mails by w1, {counts.total() - before_kill} by w2, "
          f"{counts.total()} in all for {len(expected)} reminders")


def test_a_worker_killed_after_the_smtp_server_accepted_a_mail_resends_only_that_message(
        due_groups, private_redis, celery_procs, mail_dir):
    expected = due_groups(GROUPS, ADMINS)
    w1, w2, before_kill = kill_mid_sweep(private_redis, celery_procs, mail_dir, "after")
    assert before_kill == HOLD_AT
    in_flight = delivered(mail_dir)[HOLD_AT - 1]  # accepted by the server, its ledger row not committed
    counts = delivered_counts(mail_dir)
    assert set(counts) == expected, f"lost: {sorted(expected - set(counts))}"
    # The server accepted the in-flight mail a second time, and nothing else twice...
    doubled = {k: n for k, n in counts.items() if n > 1}
    assert doubled == {(in_flight["to"], in_flight["group"]): 2}, doubled
    copies = [m for m in delivered(mail_dir) if (m["to"], m["group"]) == (in_flight["to"], in_flight["group"])]
    # ...as the same message: one distinct message per reminder.
    assert {m["message_id"] for m in copies} == {in_flight["message_id"]}
    assert mailbox_counts(mail_dir) == dict.fromkeys(expected, 1)
    # What is kept is right: one ledger row and one notification in the web UI per reminder.
    assert ledger_keys() == dict.fromkeys(expected, 1)
    assert notification_counts() == dict.fromkeys(expected, 1)
    print(f"\nkill after accept: the server accepted {counts.total()} mails for {len(expected)} reminders "
          f"(the in-flight one twice, both {in_flight['message_id']}); one distinct message per reminder")


def test_a_pool_process_killed_mid_sweep_is_replaced_and_the_sweep_finishes_at_once(
        due_groups, private_redis, celery_procs, mail_dir):
    """`make prod`'s workers run a prefork pool: the OOM killer takes the pool process that runs
    the sweep, not the worker. The worker notices, rejects the message back to the queue
    (task_reject_on_worker_lost), a new pool process runs the sweep again without waiting for the
    visibility timeout, and the ledger skips what was sent."""
    import os
    import signal

    expected = due_groups(GROUPS, ADMINS)
    w1 = celery_procs.worker("w1", private_redis.url, pool="prefork", DRILL_MAIL_DELAY="0.05", DRILL_HOLD_AT=str(HOLD_AT), DRILL_HOLD_PHASE="before")
    enqueue_sweep(private_redis.url, DAY)
    wait_for(lambda: (mail_dir / "held").exists(), 60, f"the pool process to reach its mail #{HOLD_AT}", procs=[w1])
    child = int((mail_dir / "held").read_text())
    assert child != w1.pid, "the mail must be sent by a pool process, not the worker itself"
    os.kill(child, signal.SIGKILL)
    # The same worker, a new pool process: the rest is sent within seconds, not after an hour.
    wait_for(lambda: set(delivered_counts(mail_dir)) == expected, 60, "every reminder after the kill", procs=[w1])
    wait_for(lambda: private_redis.backlog("celery") == (0, 0), 30, "the broker to have nothing left", procs=[w1])
    counts = assert_each_once(expected, mail_dir)
    pids = {m["pid"] for m in delivered(mail_dir)}
    assert child in pids and len(pids) == 2, pids
    print(f"\npool process killed: {HOLD_AT - 1} mails before, {counts.total() - HOLD_AT + 1} by its "
          f"replacement; {counts.total()} in all for {len(expected)} reminders")
