"""Operations: health, metrics, one structured log line per request and per task, the record of
the sweeps' runs, and the page a person sees when the database is away."""

import json
import logging
from datetime import date, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone

from config.middleware import DatabaseUnavailableMiddleware
from config.observability import logging_config
from licenses.models import SweepRun

pytestmark = pytest.mark.django_db


def _sweeps_finished(at):
    for name in ("licenses.tasks.expire_licenses", "notifications.tasks.send_license_reminders"):
        SweepRun.objects.create(name=name, day=at.date(), started_at=at, finished_at=at)


def _health(client):
    response = client.get("/health/", HTTP_ACCEPT="application/json")
    return response.status_code, json.loads(response.content)


# The checks run in a thread of their own: the rows they read must be committed.
@pytest.mark.django_db(transaction=True)
def test_health_is_good_when_the_sweeps_ran_within_their_period(client):
    with time_machine.travel("2027-03-10 09:00 +0200"):
        _sweeps_finished(timezone.now() - timedelta(hours=1))  # 08:00: after today's 00:05 and 08:00 runs
        status, body = _health(client)
    assert status == 200
    assert body == {"Database(alias='default')": "OK", "BeatFreshness()": "OK"}  # the test broker is not Redis


@pytest.mark.django_db(transaction=True)
def test_health_says_503_when_a_sweep_never_ran_or_is_late(client):
    status, body = _health(client)
    assert status == 503 and "never finished" in body["BeatFreshness()"]
    with time_machine.travel("2027-03-10 09:00 +0200"):
        _sweeps_finished(timezone.now() - timedelta(hours=1))
    # The next morning, past 08:00 plus the grace (60 minutes), yesterday's runs are stale.
    with time_machine.travel("2027-03-11 09:30 +0200"):
        status, body = _health(client)
    assert status == 503
    assert "send_license_reminders last finished" in body["BeatFreshness()"]
    assert "expire_licenses" in body["BeatFreshness()"]  # its 00:05 run was due too


def test_the_sweep_tasks_record_their_runs(db, settings):
    from licenses.tasks import expire_licenses
    from notifications.tasks import send_license_reminders

    expire_licenses.apply(args=["2027-03-10"])
    send_license_reminders.apply(args=["2027-03-10"])
    runs = {r.name: r for r in SweepRun.objects.all()}
    assert set(runs) == {"licenses.tasks.expire_licenses", "notifications.tasks.send_license_reminders"}
    assert all(r.day == date(2027, 3, 10) and r.finished_at >= r.started_at and not r.error for r in runs.values())


def test_a_failed_sweep_keeps_its_error_and_its_last_success(db, monkeypatch):
    from licenses import expiry
    from licenses.tasks import expire_licenses

    expire_licenses.apply(args=["2027-03-10"])
    finished = SweepRun.objects.get().finished_at
    monkeypatch.setattr(expiry, "expire_licenses", lambda on: (_ for _ in ()).throw(RuntimeError("disk full")))
    assert expire_licenses.apply(args=["2027-03-11"]).failed()
    run = SweepRun.objects.get()
    assert run.error == "RuntimeError: disk full" and run.finished_at == finished


def test_metrics_answer_local_scrapers_only(client):
    client.get("/login/")
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404


def test_each_request_logs_one_line_with_its_id_user_status_and_duration(client, caplog, person, tree):
    from groups.models import Role

    user = person(Role.COMPANY_ADMIN, tree["Company A"])
    client.force_login(user)
    with caplog.at_level(logging.INFO, logger="licensetree.request"):
        response = client.get("/groups/", HTTP_X_REQUEST_ID="lb-1234")
        other = client.get("/groups/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] == "lb-1234"
    assert other["X-Request-ID"] != "bad id with spaces" and len(other["X-Request-ID"]) == 32
    [line, second] = [r for r in caplog.records if r.name == "licensetree.request"]
    assert (line.request_id, line.user_id, line.method, line.path, line.status) == (
        "lb-1234", user.pk, "GET", "/groups/", 200)
    assert line.route == "groups/" and line.duration_ms > 0
    assert second.request_id == other["X-Request-ID"]


def test_the_json_format_writes_one_object_per_line_with_the_ids():
    config = logging_config(fmt="json", level="INFO")
    formatter = logging.config.dictConfigClass(config).configure_custom(dict(config["formatters"]["main"]))
    from config.observability import ContextFilter, request_id

    token = request_id.set("req-1")
    try:
        record = logging.LogRecord("licensetree.request", logging.INFO, __file__, 1, "GET / 200", None, None)
        record.status = 200
        ContextFilter().filter(record)
        line = json.loads(formatter.format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "GET / 200" and line["request_id"] == "req-1" and line["status"] == 200
    assert line["level"] == "INFO" and line["logger"] == "licensetree.request" and "user_id" in line


def test_a_task_logs_its_id_and_duration(caplog, db):
    from licenses.tasks import expire_licenses

    with caplog.at_level(logging.INFO, logger="licensetree.task"):
        result = expire_licenses.apply(args=["2027-03-10"])
    [line] = [r for r in caplog.records if r.name == "licensetree.task"]
    assert line.task_id == result.id and line.task == "licenses.tasks.expire_licenses" and line.state == "SUCCESS"
    assert line.duration_ms >= 0


def test_the_database_going_away_gives_a_503_page_that_says_nothing_was_saved():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    request = RequestFactory().post("/licenses/groups/1/")
    response = middleware.process_exception(request, OperationalError("server closed the connection unexpectedly"))
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "nothing was saved" in response.content.decode()
    assert middleware.process_exception(request, ValueError("a bug")) is None  # a bug stays a 500


def test_the_database_going_away_before_any_view_gives_the_same_503_page(client, operator, caplog):
    """PostgreSQL restarting while a middleware loads the session (before any view): the 503
    page, with its request id and one log line, not a bare 500 (the PostgreSQL drill found it)."""
    client.force_login(operator)
    client.raise_request_exception = False
    gone = OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=gone), \
            caplog.at_level(logging.INFO, logger="licensetree.request"):
        response = client.post("/licenses/groups/1/", {"restricted": "on"})
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "nothing was saved" in response.content.decode() and response["X-Request-ID"]
    [line] = [r for r in caplog.records if r.name == "licensetree.request"]
    assert line.status == 503 and line.request_id == response["X-Request-ID"]


def test_the_database_going_away_after_the_view_does_not_claim_nothing_was_saved(client, operator):
    """A middleware failing on the way out, after the view ran (and may have committed): the 503
    page cannot say nothing was saved, and asks the person to look first."""
    client.force_login(operator)
    client.raise_request_exception = False
    gone = OperationalError("server closed the connection unexpectedly")
    with mock.patch("django.contrib.messages.middleware.MessageMiddleware.process_response", side_effect=gone):
        response = client.get("/groups/")
    page = response.content.decode()
    assert response.status_code == 503
    assert "nothing was saved" not in page and "cannot say whether your change was saved" in page


def test_the_login_request_logs_the_user_it_logged_in(client, caplog, operator):
    from tests.factories import PASSWORD

    with caplog.at_level(logging.INFO, logger="licensetree.request"):
        response = client.post("/login/", {"username": operator.email, "password": PASSWORD})
    assert response.status_code == 302
    [line] = [r for r in caplog.records if r.name == "licensetree.request"]
    assert line.user_id == operator.pk


def test_seed_demo_if_empty_never_mixes_the_demo_into_real_data(tree):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "no demo data loaded" in out.getvalue()
