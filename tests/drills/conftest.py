"""The drills' harness: a private redis-server (never the shared one), Celery workers and beats
as subprocesses on it, the mails the drill backend accepted, and groups with reminders due."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection

from groups import services as group_services
from groups.models import Group, Role
from notifications.models import Notification, ReminderLedger
from tests.licenses.helpers import block, company_pool, give

from .mailbackends import read_lines

START = date(2027, 1, 1)
DAY = date(2027, 3, 17)  # a weekly reminder 14 days before 2027-03-31 falls due that day
UNTIL = date(2027, 3, 31)
REDIS_SERVER = shutil.which("redis-server")


def wait_for(condition, timeout: float, what: str, step: float = 0.1, procs=()):
    """Poll until condition() is truthy; fail saying `what` (and show a dead process' log)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"{proc.name} exited ({proc.returncode}) while waiting for {what}:\n{proc.log_tail()}")
        if time.monotonic() > deadline:
            logs = "".join(f"\n--- {proc.name}:\n{proc.log_tail()}" for proc in procs)
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}{logs}")
        time.sleep(step)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def terminate(proc: subprocess.Popen, *, grace: float) -> None:
    """SIGTERM, `grace` seconds to exit, then SIGKILL; nothing if it already exited."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class PrivateRedis:
    """A redis-server of the drill's own on a free port, with nothing saved to disk."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = folder / f"redis-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", str(self.log.parent)], stdout=out, stderr=subprocess.STDOUT)
        wait_for(self.ping, 10, f"the private redis-server on port {self.port}")

    def ping(self) -> bool:
        try:
            return redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=2)

    def stop(self) -> None:
        if self.proc is not None:
            terminate(self.proc, grace=10)
        self.proc = None

    def backlog(self, queue: str) -> tuple[int, int]:
        """(messages waiting in `queue`, messages delivered to a worker and not yet acknowledged)."""
        client = self.client()
        return client.llen(queue), client.hlen("unacked")


@pytest.fixture
def private_redis(tmp_path):
    if REDIS_SERVER is None:
        pytest.fail("redis-server is not installed: the drills start a private one")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.proc.send_signal(signal.SIGCONT)  # in case a drill froze it
        server.stop()


class Proc:
    """A Celery worker or beat subprocess with its log in a file."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(argv, env=env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self):
        return self.popen.returncode

    def poll(self):
        return self.popen.poll()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.text().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine would; nothing runs in the process after it."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        terminate(self.popen, grace=15)


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    folder = tmp_path / "mail"
    folder.mkdir()
    return folder


@pytest.fixture
def celery_procs(tmp_path, mail_dir):
    """celery_procs.worker(name, broker, **env) / .beat(name, broker, **env): started now, stopped
    (SIGTERM, then SIGKILL) when the test ends, whatever happened."""
    db = connection.settings_dict
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.drills.worker_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DRILL_MAIL_DIR": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
    }
    base_env.pop("TEST_EMAIL_BACKEND", None)
    started: list[Proc] = []

    class Procs:
        def worker(self, name: str, broker: str, queue: str = "celery", ready: bool = True, pool: str = "solo",
                   **env) -> Proc:
            argv = [sys.executable, "-m", "celery", "-A", "config", "worker", f"--pool={pool}", "--concurrency=1",
                    f"--hostname={name}@drill", "-Q", queue, "--loglevel=INFO", "--without-gossip", "--without-mingle",
                    "--without-heartbeat"]
            proc = Proc(name, argv, {**base_env, "CELERY_BROKER_URL": broker, **env}, tmp_path / f"{name}.log")
            started.append(proc)
            if ready:
                wait_for(lambda: f"{name}@drill ready." in proc.text(), 60, f"worker {name} to be ready", procs=[proc])
            return proc

        def beat(self, name: str, broker: str, **env) -> Proc:
            argv = [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                    f"--schedule={tmp_path / (name + '-schedule')}", f"--pidfile={tmp_path / (name + '.pid')}"]
            proc = Proc(name, argv, {**base_env, "CELERY_BROKER_URL": broker, **env}, tmp_path / f"{name}.log")
            started.append(proc)
            return proc

    try:
        yield Procs()
    finally:
        for proc in started:
            proc.stop()


def _configured_app(broker: str) -> Celery:
    """A Celery app configured as config.celery.app, with production's Redis transport options
    (the test settings empty them), on `broker`."""
    from config.settings import base

    app = Celery("drill-web")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    options = dict(base.CELERY_BROKER_TRANSPORT_OPTIONS)
    if "socket_timeout" not in options:  # base.py computed them for a filesystem:// or memory:// broker
        pytest.fail("run the drills with CELERY_BROKER_URL=redis://… so that base.py's Redis options apply")
    app.conf.broker_transport_options = options
    return app


@contextmanager
def web_process_on(broker: str):
    """The web process' Celery app (config.celery.app, which config.enqueue publishes through)
    replaced by a fresh one on `broker`. Celery takes CELERY_BROKER_URL from the environment
    before any setting, so the environment names the private Redis meanwhile."""
    saved = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker
    try:
        app = _configured_app(broker)
        with app.connection_for_write() as conn:
            assert conn.as_uri().endswith(broker.split("//", 1)[1]), conn.as_uri()  # never the shared Redis
        with mock.patch("config.celery.app", app):
            yield app
    finally:
        if saved is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved


def enqueue_sweep(broker: str, day: date, queue: str = "celery") -> None:
    """What the beat does at 08:00: hand the day's reminder sweep to a worker (on `broker`, named
    explicitly, so never the shared Redis)."""
    app = _configured_app(broker)
    entry = settings.CELERY_BEAT_SCHEDULE["send-license-reminders"]
    with app.connection_for_write(broker) as conn:
        app.send_task(entry["task"], args=[day.isoformat()], queue=queue, connection=conn)


def delivered(folder: Path) -> list[dict]:
    return read_lines(folder / "delivered.jsonl")


def delivered_counts(folder: Path) -> Counter:
    """How many mails each (recipient, group) received."""
    return Counter((m["to"], m["group"]) for m in delivered(folder))


def mailbox_counts(folder: Path) -> Counter:
    """How many distinct messages (by Message-ID) each (recipient, group) was handed: copies of
    one message accepted twice by the server count once (a mailbox that drops duplicates by
    Message-ID shows one; any other, the same message twice)."""
    return Counter((m["to"], m["group"]) for m in {(m["to"], m["group"], m["message_id"]): m
                                                    for m in delivered(folder)}.values())


def ledger_keys() -> Counter:
    """The ledger's rows as (recipient, group) -> count (one due block per group in the drills)."""
    return Counter(ReminderLedger.objects.filter(sent_at__isnull=False)
                   .values_list("recipient__email", "block__group_id"))


def notification_counts() -> Counter:
    """What the administrators see under Notifications: one per (recipient, group) and mail."""
    return Counter(Notification.objects.values_list("user__email", "group_id"))


def assert_each_once(expected: set[tuple[str, int]], folder: Path) -> Counter:
    """Every expected reminder was handed to the SMTP server once, none lost, none twice, with
    one ledger row and one in-app notification each. Returns the delivered counts."""
    counts = delivered_counts(folder)
    assert set(counts) == expected, f"lost: {sorted(expected - set(counts))}"
    assert {k: n for k, n in counts.items() if n > 1} == {}, "a reminder went twice"
    assert ledger_keys() == dict.fromkeys(expected, 1)
    assert notification_counts() == dict.fromkeys(expected, 1)
    return counts


@pytest.fixture
def due_groups(tree, operator, person):
    """due_groups(n, admins=2): n dealers of Company A, each with `admins` administrators and one
    block ending UNTIL whose weekly reminder (14 days before) is due on DAY. Returns the set of
    (recipient email, group id) that must each receive exactly one mail for DAY."""

    def make(n: int, admins: int = 2) -> set[tuple[str, int]]:
        company_pool(tree, actor=operator, start=START)
        expected = set()
        for i in range(n):
            dealer = group_services.group_create(parent=tree["Company A"], name=f"Drill dealer {i:02}",
                                                 kind=Group.Kind.DEALER, actor=operator)
            for j in range(admins):
                email = f"d{i:02}-admin{j}@test.example"
                person(Role.SITE_ADMIN, dealer, email=email)
                expected.add((email, dealer.pk))
            give(dealer, block(1, 1, start=START, until=UNTIL), actor=operator, on=START,
                 reminder_enabled=True, reminder_days=14, recurrence="weekly")
        return expected

    return make
