"""Two sweeps at once on PostgreSQL, and a real Celery worker on Redis."""

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.core import mail as django_mail
from django.db import connection

from groups.models import Role
from notifications import services
from notifications.models import ReminderLedger
from tests.licenses.helpers import block, company_pool, give
from tests.pg.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
START = date(2027, 1, 1)
DAY = date(2027, 3, 17)


@pytest.fixture
def due(tree, operator, person):
    company_pool(tree, actor=operator, start=START)
    person(Role.SITE_ADMIN, tree["Dealer A1"], email="a1@test.example")
    person(Role.SITE_ADMIN, tree["Dealer A1"], email="a1-second@test.example")
    for name in ("Dealer A1", "Dealer A2"):
        give(tree[name], block(10, 10, start=START, until=date(2027, 3, 31)), actor=operator, on=START,
             reminder_enabled=True, reminder_days=14, recurrence="weekly")
    person(Role.SITE_ADMIN, tree["Dealer A2"], email="a2@test.example")
    return tree


def test_two_sweeps_at_once_send_each_reminder_once(due):
    django_mail.outbox = []
    errors = run_threads(lambda _i: services.send_license_reminders(on=DAY), 4)
    assert errors == []
    rows = list(ReminderLedger.objects.values_list("block_id", "day", "recipient__email"))
    assert len(rows) == len(set(rows)) == 3
    assert sorted(m.to[0] for m in django_mail.outbox) == ["a1-second@test.example", "a1@test.example", "a2@test.example"]


def _redis_or_fail():
    url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    if not url.startswith("redis"):
        url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        # Never a quiet skip: make test-pg needs Redis (and .ci/run starts it).
        pytest.fail(f"Redis is not reachable at {url}: {exc}")
    return url


def _messages(folder) -> list[str]:
    """The mails the file backend wrote: a file per connection (the sweep sends a batch over one),
    each message followed by a line of 79 dashes."""
    separator = "\n" + "-" * 79 + "\n"
    return [m for p in Path(folder).glob("*.log") for m in p.read_text().split(separator) if m.strip()]


def test_a_real_worker_on_redis_runs_the_beat_entry_into_the_mail_outbox(due, tmp_path):
    broker = _redis_or_fail()
    queue = f"wiring-{os.getpid()}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker,
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "TEST_EMAIL_FILE_PATH": str(tmp_path),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue, "--loglevel=WARNING"],
        env=env, cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        from config.celery import app

        entry = settings.CELERY_BEAT_SCHEDULE["send-license-reminders"]
        with app.connection_for_write(broker) as conn:
            app.send_task(entry["task"], args=[DAY.isoformat()], queue=queue, connection=conn)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(_messages(tmp_path)) < 3:
            assert worker.poll() is None, worker.stdout.read().decode()
            time.sleep(0.5)
        texts = _messages(tmp_path)
        assert len(texts) == 3, "the worker did not send the three reminders in time"
        assert any("To: a2@test.example" in t and "Dealer A2" in t for t in texts)
        # The mail leaves inside the claiming transaction; its commit follows right after.
        while time.monotonic() < deadline and ReminderLedger.objects.filter(sent_at__isnull=False).count() < 3:
            time.sleep(0.2)
        assert ReminderLedger.objects.filter(sent_at__isnull=False).count() == 3
    finally:
        worker.terminate()
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            worker.kill()
