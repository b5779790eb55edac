"""Structured logs: one JSON line per request and per task, each carrying the request id, the
user id and the task id of the work it belongs to, so a line can be followed across processes.

The ids live in context variables, set by `RequestLogMiddleware` for a request and by Celery's
task signals for a task; `ContextFilter` puts them on every record logged meanwhile.
"""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id: ContextVar[int | None] = ContextVar("user_id", default=None)
task_id: ContextVar[str | None] = ContextVar("task_id", default=None)
_task_var = task_id  # under another name where Celery's signal arguments shadow it

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access = logging.getLogger("licensetree.request")
tasks = logging.getLogger("licensetree.task")


class ContextFilter(logging.Filter):
    """Adds request_id, user_id and task_id (None outside a request or a task) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(record, "request_id", None) or request_id.get()
        record.user_id = getattr(record, "user_id", None) or user_id.get()
        record.task_id = getattr(record, "task_id", None) or task_id.get()
        return True


class RequestLogMiddleware:
    """Outermost middleware: names the request (the caller's X-Request-ID when it is a sane
    token, else a new one), returns the id in the response, and logs one line when it is done."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        rid = given if _VALID_ID.match(given) else uuid.uuid4().hex
        request.request_id = rid
        tokens = request_id.set(rid), user_id.set(None)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response["X-Request-ID"] = rid
            return response
        finally:
            # Only a user already loaded (by a view, or set by login()): loading one here would
            # query the database, which may be what just failed.
            user = request.__dict__.get("user")
            user = getattr(user, "_wrapped", user)  # a lazy user not yet loaded is `empty`
            if user is empty:
                user = None
            if user is not None and user.is_authenticated:
                user_id.set(user.pk)
            level = logging.ERROR if status >= 500 else logging.INFO
            route = getattr(getattr(request, "resolver_match", None), "route", None)
            access.log(level, "%s %s %s", request.method, request.path, status, extra={
                "method": request.method, "path": request.path, "route": route, "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
            request_id.reset(tokens[0])
            user_id.reset(tokens[1])


def connect_celery_signals() -> None:
    """Each task's log lines carry its id; a line per task when it ends, with its duration."""
    from celery.signals import task_postrun, task_prerun

    started: dict[str, float] = {}

    @task_prerun.connect(weak=False)
    def _prerun(task_id=None, task=None, **_kwargs):
        _task_var.set(task_id)
        started[task_id] = time.perf_counter()

    @task_postrun.connect(weak=False)
    def _postrun(task_id=None, task=None, state=None, **_kwargs):
        began = started.pop(task_id, None)
        tasks.info("task %s %s", getattr(task, "name", "?"), state, extra={
            "task": getattr(task, "name", None), "state": state,
            "duration_ms": round((time.perf_counter() - began) * 1000, 1) if began else None})
        _task_var.set(None)


def logging_config(*, fmt: str, level: str) -> dict:
    """LOGGING for settings: JSON lines ("json") or plain text ("text") on stderr."""
    formatter = {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s %(task_id)s",
        "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
    } if fmt == "json" else {
        "format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(user_id)s task=%(task_id)s] %(message)s",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "config.observability.ContextFilter"}},
        "formatters": {"main": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "main", "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # The request line replaces Django's own 4xx/5xx warnings (the 5xx traceback stays).
            "django.server": {"level": "WARNING"},
        },
    }
