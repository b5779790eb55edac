"""Hand a task to the worker after the web request's transaction commits, without ever
making the request wait on, or fail because of, the broker."""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def _send(task_name: str, args: tuple) -> None:
    from config.celery import app

    try:
        # No publish retries: with the broker down this fails fast; the beat's next sweep,
        # which computes what is due from the database, does the work instead.
        app.send_task(task_name, args=args, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure is logged, never raised into the request
        log.warning("could not enqueue %s%r (the next scheduled sweep will catch up): %s", task_name, args, exc)


def enqueue_on_commit(task_name: str, *args) -> None:
    """Enqueue `task_name` by name once the current transaction has committed (at once outside one)."""
    transaction.on_commit(lambda: _send(task_name, args))
