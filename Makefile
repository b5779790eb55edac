# The two commands: `make run` (serve the app with demo data) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/licensetree
REDIS_URL ?= redis://127.0.0.1:6379/0
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: install run prod prod-setup loadtest drill test test-fast test-pg lint chromium bench migrate clean screenshots

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

var:
	mkdir -p var/mail var/broker/out var/broker/processed

migrate: install var
	$(PY) manage.py migrate --noinput

# Serve on http://127.0.0.1:8000 with a Celery worker and beat on the file broker; Ctrl-C stops all three.
run: migrate
	$(PY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000  (mail goes to var/mail/, Ctrl-C stops everything)"
	@trap 'kill -INT $$web $$worker $$beat 2>/dev/null; wait' INT TERM; \
	$(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=1 --pool=solo & worker=$$!; \
	$(VENV)/bin/celery -A config beat --loglevel=INFO & beat=$$!; \
	$(PY) manage.py runserver 127.0.0.1:8000 --noreload & web=$$!; \
	$(PY) manage.py expire_licenses --enqueue; $(PY) manage.py send_license_reminders --enqueue; \
	wait

# The production shape on this machine: gunicorn (WEB_CONCURRENCY workers) on PostgreSQL and
# Redis, two Celery workers and one beat, from the Procfile with honcho; Ctrl-C stops all.
# Plain HTTP on 127.0.0.1:$(PROD_PORT), so cookies are not marked Secure and HTTPS is not forced.
PROD_DB_URL ?= postgres://postgres@127.0.0.1:5432/licensetree_prod
PROD_PORT ?= 8000
PROD_DIR ?= var/prod
define PROD_ENV
export DJANGO_SETTINGS_MODULE=config.settings.production DATABASE_URL=$(PROD_DB_URL) CELERY_BROKER_URL=$(REDIS_URL) \
  DJANGO_SECRET_KEY="$$(cat $(PROD_DIR)/secret_key)" DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost \
  DJANGO_CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$(PROD_PORT),http://localhost:$(PROD_PORT) \
  DJANGO_SECURE_SSL_REDIRECT=false DJANGO_SECURE_COOKIES=false DJANGO_SECURE_HSTS_SECONDS=0 \
  EMAIL_URL=$${EMAIL_URL:-filemail://} EMAIL_FILE_PATH=$${EMAIL_FILE_PATH:-$(CURDIR)/$(PROD_DIR)/mail} \
  SITE_URL=http://127.0.0.1:$(PROD_PORT) PORT=$(PROD_PORT) PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/$(PROD_DIR)/metrics \
  CELERY_BEAT_SCHEDULE_FILE=$(PROD_DIR)/celerybeat-schedule PATH=$(CURDIR)/$(VENV)/bin:$$PATH
endef

prod-setup: install
	mkdir -p $(PROD_DIR)/mail $(PROD_DIR)/metrics
	test -s $(PROD_DIR)/secret_key || $(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > $(PROD_DIR)/secret_key
	$(PY) -m config.ensure_database "$(PROD_DB_URL)"
	$(PROD_ENV); rm -f $(PROD_DIR)/metrics/*.db; \
	  $(PY) manage.py collectstatic --noinput -v 0 && $(PY) manage.py migrate --noinput && \
	  $(PY) manage.py check --deploy --fail-level ERROR && $(PY) manage.py seed_demo --if-empty

prod: prod-setup
	@echo "Serving the production shape on http://127.0.0.1:$(PROD_PORT)  (health: /health/, Ctrl-C stops everything)"
	$(PROD_ENV); { sleep 5; $(PY) manage.py expire_licenses --enqueue; $(PY) manage.py send_license_reminders --enqueue; } & exec $(VENV)/bin/honcho start -f Procfile

# The load test (not a test): 50 dealer administrators for 2 minutes on the production shape,
# port 8001, database licensetree_load (rebuilt with --fresh). Report in var/loadtest/report.md.
# Smaller: make loadtest LOADTEST_ARGS="--users 10 --run-time 1m"
LOAD_STAMP := $(VENV)/.installed-load
$(LOAD_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install --quiet -e ".[load]"
	touch $(LOAD_STAMP)

loadtest: install $(LOAD_STAMP) var
	$(PY) -m bench.loadtest $(LOADTEST_ARGS)

# Fault drills: every drill of tests/drills on PostgreSQL and a private Redis (make test runs
# them too), then PostgreSQL stopped for 5 s in the middle of a load test (20 administrators,
# 90 s). STOPS AND STARTS THE MACHINE'S POSTGRESQL: nothing else may be using it meanwhile.
DRILL_ARGS ?= --users 20 --run-time 90s --restart-database-at 40 --database-down-for 5
drill: install $(LOAD_STAMP) var
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) \
	  $(PY) -m pytest -m drill -q -rxXs tests/drills
	$(PY) -m bench.loadtest $(DRILL_ARGS)

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
chromium:
	@command -v /usr/bin/chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

lint: install
	$(VENV)/bin/ruff check .

test-fast: install chromium
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -m "not postgres" -q

test-pg: install
	DJANGO_SETTINGS_MODULE=config.settings.test DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) \
	  $(PY) -m pytest -m postgres -q

test: lint test-fast test-pg

# The scale benchmark (not a test): a fresh var/bench.sqlite3 (--sqlite PATH for another), or DATABASE_URL if set.
# Smaller and quicker: make bench BENCH_ARGS="--groups 5000 --blocks 100000"; --skip-report, --skip-sweeps.
bench: install var
	$(PY) -m bench $(BENCH_ARGS)

# Pictures of the pages people use (1366x768 and 390x844, English and Ukrainian) into docs/screenshots/.
screenshots: install chromium
	SCREENSHOTS=docs/screenshots DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -q tests/e2e/test_screenshots.py

clean:
	rm -rf var
