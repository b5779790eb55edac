"""Settings shared by every environment; each value can come from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

from config.observability import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "mptt",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "simple_history",
    "axes",
    "bootstrap",
    "health_check",
    "django_prometheus",
    "groups",
    "licenses",
    "notifications",
]

MIDDLEWARE = [
    # Outermost: a request id and one log line per request, with its duration; then the metrics.
    "config.observability.RequestLogMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "config.middleware.UserLanguageMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "notifications.context_processors.unread_notifications",
                "config.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite ignores SELECT ... FOR UPDATE: IMMEDIATE transactions make writers queue instead.
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 30)
    # Readers do not wait for the writer, and a commit (one per reminder mail) is not an fsync.
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "groups.User"
LOGIN_URL = "login"
# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one account from one
# address, that pair is locked out for the cool-off; a success resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the login forms post the email address as "username"
AXES_LOCKOUT_CALLABLE = "config.views.locked_out"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("uk", "Українська")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env("DJANGO_TIME_ZONE", default="Europe/Kyiv")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Reverting from the admin's history would write around the services and their rules.
SIMPLE_HISTORY_REVERT_DISABLED = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Mail: smtp+tls://user:pass@host:587 in production; files under var/mail by default.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://")
vars().update(EMAIL_CONFIG)
if EMAIL_CONFIG["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    # filemail:// keeps no absolute path: mail files go to EMAIL_FILE_PATH, by default var/mail.
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="licenses@localhost")
EMAIL_TIMEOUT = 10
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Content Security Policy: everything is served from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
}

# Celery: JSON only, late acks so a worker lost mid-task leaves the message for another.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "data_folder_in": str(VAR_DIR / "broker" / "out"),
    "data_folder_out": str(VAR_DIR / "broker" / "out"),
    "processed_folder": str(VAR_DIR / "broker" / "processed"),
    "store_processed": False,
}
if not CELERY_BROKER_URL.startswith("filesystem"):
    # Short timeouts: a web request that enqueues must not hang when the broker is down.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": 2, "socket_connect_timeout": 2}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Workers and the beat reconnect for as long as the broker is away (None: no limit), so an
# outage never leaves the reminders without a worker. A web request's enqueue is bounded by the
# connect timeout above instead: kombu spends at most that long over all its attempts
# (tests/drills/test_broker_down.py).
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# The beat marks an entry as run before it publishes it; with the default publish retries (3)
# a sweep falling due while Redis is down would be dropped. Its entries keep trying instead, so
# the 00:05 and 08:00 sweeps are handed over once Redis is back (the beat waits meanwhile).
_BEAT_PUBLISH = {"retry_policy": {"max_retries": None, "interval_start": 1, "interval_step": 2, "interval_max": 30}}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The one beat schedule. Both sweeps compute what is due from the database, so running
# them at any time, or twice, does no harm.
CELERY_BEAT_SCHEDULE = {
    "expire-licenses": {
        "task": "licenses.tasks.expire_licenses",
        "schedule": crontab(minute=5, hour=0),
        "options": _BEAT_PUBLISH,
    },
    "send-license-reminders": {
        "task": "notifications.tasks.send_license_reminders",
        "schedule": crontab(minute=0, hour=8),
        "options": _BEAT_PUBLISH,
    },
    # The same sweep every hour at :30 from 09:30 to 20:30: a reminder a save made due today goes
    # out the same day (for saves until 20:30) even when the save could not hand its sweep over
    # (Redis was down). The ledger sends nothing twice; after the 08:00 run a run reads only
    # what is due.
    "send-license-reminders-catch-up": {
        "task": "notifications.tasks.send_license_reminders",
        "schedule": crontab(minute=30, hour="9-20"),
        "options": _BEAT_PUBLISH,
    },
}

# Product settings.
LICENSE_TRIAL_DAYS = env.int("LICENSE_TRIAL_DAYS", default=30)
LICENSE_TRIAL_QUANTITIES = {
    "virtual_numbers": env.int("LICENSE_TRIAL_VIRTUAL_NUMBERS", default=10),
    "mobile_apps": env.int("LICENSE_TRIAL_MOBILE_APPS", default=10),
    "ukey2_keys": env.int("LICENSE_TRIAL_UKEY2_KEYS", default=10),
}
LICENSE_BASIC_QUANTITIES = {"virtual_numbers": 2, "mobile_apps": 2}
DASHBOARD_USAGE_THRESHOLD = env.int("DASHBOARD_USAGE_THRESHOLD", default=90)

# Logs: JSON lines (LOG_FORMAT=json, production's default) or text, each with the request id,
# user id and task id it belongs to (config/observability.py).
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = logging_config(fmt=LOG_FORMAT, level=env("DJANGO_LOG_LEVEL", default="INFO"))
# Celery keeps Django's logging instead of installing its own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Health (/health/): how late a scheduled sweep may finish before the beat counts as stale.
HEALTH_BEAT_GRACE_MINUTES = env.int("HEALTH_BEAT_GRACE_MINUTES", default=60)
# /metrics (Prometheus) answers only these client addresses; others get a 404.
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
