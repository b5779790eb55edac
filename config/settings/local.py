"""The embedded default used by `make run`: SQLite, file broker and mail under var/."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "local-dev-only-NOT-SECRET-change-me-in-production")
os.environ.setdefault("DJANGO_DEBUG", "true")

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedStaticFilesStorage"  # noqa: F405

# kombu's filesystem transport and the file mail backend need their folders to exist.
for _folder in (VAR_DIR / "mail", VAR_DIR / "broker" / "out", VAR_DIR / "broker" / "processed"):  # noqa: F405
    _folder.mkdir(parents=True, exist_ok=True)
