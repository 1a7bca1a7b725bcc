# The two commands: `make run` (embedded defaults, no server needed) and `make test`
# (PostgreSQL and Redis on 127.0.0.1, a real Celery worker, Debian's Chromium).
PYTHON ?= python3.11
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The test suite runs on the production stack: real PostgreSQL and Redis over TCP.
# TEST_DB and TEST_REDIS_DB let two runs share the machine (pytest-django prefixes "test_").
TEST_DB ?= gerance
TEST_REDIS_DB ?= 15
# A real Redmine (scripts/redmine.sh), one per Redis db number so that concurrent runs keep apart.
REDMINE_PORT ?= $(shell echo $$((3100 + $(TEST_REDIS_DB))))
REDMINE_TEST_API_KEY := 0123456789abcdef0123456789abcdef01234567
# The throw-away IMAP server of the email channel's tests (scripts/dovecot.sh), shared by runs.
DOVECOT_PORT ?= 3143
TEST_ENV := DEBUG=false SECRET_KEY=insecure-test-key-only-for-make-test \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(TEST_DB) \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/$(TEST_REDIS_DB) \
	CELERY_RESULT_BACKEND=redis://127.0.0.1:6379/$(TEST_REDIS_DB) \
	TIME_ZONE=Europe/Paris \
	SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false \
	SECURE_HSTS_SECONDS=0 \
	REDMINE_URL=http://127.0.0.1:$(REDMINE_PORT) REDMINE_API_KEY=$(REDMINE_TEST_API_KEY) \
	REDMINE_PORT=$(REDMINE_PORT) \
	IMAP_TEST_HOST=127.0.0.1 IMAP_TEST_PORT=$(DOVECOT_PORT) \
	IMAP_TEST_USER=gestion@agence.test IMAP_TEST_PASSWORD=secret
PYTEST_ARGS ?=

.PHONY: run test lint install messages bench

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py seed_demo
	DEBUG=true PORT=$(PORT) scripts/run-dev.sh

test: $(STAMP)
	REDMINE_PORT=$(REDMINE_PORT) REDMINE_API_KEY=$(REDMINE_TEST_API_KEY) DOVECOT_PORT=$(DOVECOT_PORT) \
		scripts/test-services.sh
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Refresh the French catalogue after changing UI strings, then translate the new entries.
messages: $(STAMP)
	DEBUG=true $(BIN)/python manage.py makemessages --locale fr --no-obsolete --no-location
	DEBUG=true $(BIN)/python manage.py compilemessages --locale fr --ignore ".venv" --ignore var

# The deadline alerts at scale (R8): 1,000,000 items on PostgreSQL, a real SMTP server, a real
# worker and beat; about 8 minutes on 2 cores. Its own database (dropped and created again) and
# Redis db; prints a table and writes bench/results.md. Not part of `make test`.
BENCH_DB ?= gerance_bench
BENCH_REDIS_DB ?= 12
BENCH_ARGS ?=
BENCH_ENV := DEBUG=false SECRET_KEY=insecure-bench-key-only-for-make-bench \
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_DB) \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/$(BENCH_REDIS_DB) \
	CELERY_RESULT_BACKEND=redis://127.0.0.1:6379/$(BENCH_REDIS_DB) \
	TIME_ZONE=Europe/Paris SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false \
	CSRF_COOKIE_SECURE=false SECURE_HSTS_SECONDS=0 LOG_LEVEL=WARNING \
	STATICFILES_BACKEND=django.contrib.staticfiles.storage.StaticFilesStorage

BENCH_REDMINE_PORT ?= 3190
BENCH_REDMINE_ENV := $(BENCH_ENV) DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_DB)_redmine \
	REDMINE_URL=http://127.0.0.1:$(BENCH_REDMINE_PORT) REDMINE_API_KEY=$(REDMINE_TEST_API_KEY)

bench: $(STAMP)
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "make bench: PostgreSQL is not answering on 127.0.0.1:5432 (see make test)" >&2; exit 1; }
	@redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG || { echo "make bench: Redis is not answering on 127.0.0.1:6379 (see make test)" >&2; exit 1; }
	$(BENCH_ENV) $(BIN)/python bench/run.py $(BENCH_ARGS)
	@# The email channel: 1,000 messages in the test Dovecot, ingestion beside a plain fetch loop.
	@DOVECOT_PORT=$(DOVECOT_PORT) scripts/dovecot.sh start >/dev/null
	$(BENCH_ENV) DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_DB)_mailbox \
		DOVECOT_PORT=$(DOVECOT_PORT) $(BIN)/python bench/mailbox_bench.py
	@# The Redmine bridge: 500 work requests pushed by a real worker to a pristine real Redmine,
	@# beside a plain python-redmine loop creating the same issues; results in bench/redmine-results.md.
	REDMINE_API_KEY=$(REDMINE_TEST_API_KEY) scripts/redmine.sh reset $(BENCH_REDMINE_PORT) >/dev/null
	psql -q -h 127.0.0.1 -U postgres -c 'DROP DATABASE IF EXISTS "$(BENCH_DB)_redmine"' \
		-c 'CREATE DATABASE "$(BENCH_DB)_redmine"'
	$(BENCH_REDMINE_ENV) $(BIN)/python manage.py migrate --noinput -v0
	$(BENCH_REDMINE_ENV) $(BIN)/python manage.py redmine_bench --count 500 --output bench/redmine-results.md
