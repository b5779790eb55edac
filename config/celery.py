import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("licensetree")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each task's log lines carry its id, and a line per task says how long it took.
from config.observability import connect_celery_signals  # noqa: E402

connect_celery_signals()
