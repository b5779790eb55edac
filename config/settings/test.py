"""Test settings: in-memory SQLite unless DATABASE_URL names PostgreSQL (`make test-pg`)."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-NOT-SECRET")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.setdefault("EMAIL_URL", "memorymail://")
# Playwright's sync API runs an event loop in the test thread; the ORM must still work there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from .base import *  # noqa: E402,F403

DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# The Celery wiring test's worker writes mail files where the test can read them.
EMAIL_BACKEND = os.environ.get("TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = os.environ.get("TEST_EMAIL_FILE_PATH", str(VAR_DIR / "test-mail"))  # noqa: F405
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
