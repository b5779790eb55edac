"""Settings of the drills' Celery workers and beats: the test settings with production's Redis
transport options (config/settings/base.py; the test settings empty them), the drills' mail
backend, and two knobs the product settings do not read from the environment:

- DRILL_VISIBILITY_TIMEOUT: Redis' visibility timeout (production: 3600 s), so that a message
  left unacknowledged by a killed worker is handed to another one within the drill; and a
  restore sweep every second instead of every 100 s.
- DRILL_BEAT_EVERY (seconds) and DRILL_BEAT_DAY: the beat's reminder entry fires that often,
  for that day, instead of at 08:00 for today; the expiry entry is left out.
"""

import os

from config.settings import base
from config.settings.test import *  # noqa: F403

EMAIL_BACKEND = os.environ.get("TEST_EMAIL_BACKEND", "tests.drills.mailbackends.DrillBackend")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **base.CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": float(os.environ.get("DRILL_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
if os.environ.get("DRILL_BEAT_EVERY"):
    CELERY_BEAT_SCHEDULE = {
        "send-license-reminders": {
            **base.CELERY_BEAT_SCHEDULE["send-license-reminders"],
            "schedule": float(os.environ["DRILL_BEAT_EVERY"]),
            "args": [os.environ["DRILL_BEAT_DAY"]],
        },
    }
