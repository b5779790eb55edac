"""gunicorn's settings for the production shape (Procfile's web line); each can come from the
environment."""

import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
max_requests = 2000  # recycle workers now and then (leaks in any library stay bounded)
max_requests_jitter = 200
accesslog = None  # config.observability logs one JSON line per request instead
errorlog = "-"


def child_exit(server, worker):
    """Prometheus' multiprocess mode: forget a dead worker's live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
