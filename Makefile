# Houqin: the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMPS  := .venv/.stamps
BIND    ?= $(or $(HOUQIN_BIND),127.0.0.1:8000)

.PHONY: help deps fonts run test lint test-sqlite test-postgres clean

help:
	@echo "make run    install what is needed, migrate, load the demo school once, serve on http://$(BIND)"
	@echo "make test   install what tests need, then lint, the whole suite on SQLite, and PostgreSQL tests"

# Python packages from the committed lock; re-installed only when the lock changes.
$(STAMPS)/python: requirements.lock
	@test -x $(PY) || python3 -m venv .venv
	@mkdir -p $(STAMPS)
	$(PIP) install -q --disable-pip-version-check -r requirements.lock
	@touch $@

# Front-end libraries from npm (never a CDN), copied into the git-ignored houqin/static/vendor.
$(STAMPS)/npm: package-lock.json package.json scripts/vendor_static.py
	@mkdir -p $(STAMPS)
	npm ci --no-audit --no-fund --loglevel=error
	$(PY) scripts/vendor_static.py
	@touch $@

deps: $(STAMPS)/python $(STAMPS)/npm

fonts:
	@bash scripts/install_system_deps.sh fonts

run: deps fonts
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py collectstatic --noinput -v0
	@$(PY) manage.py demo_logins
	@echo "Houqin: http://$(BIND)/  (Ctrl-C stops it)"
	exec .venv/bin/gunicorn houqin.wsgi --bind "$(BIND)" --workers 2 --access-logfile - --error-logfile -

lint: deps
	.venv/bin/ruff check .

test: deps
	@bash scripts/install_system_deps.sh test
	.venv/bin/ruff check .
	DJANGO_SETTINGS_MODULE=houqin.settings_test $(PY) manage.py makemigrations --check --dry-run -v1
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: deps
	.venv/bin/pytest -p no:cacheprovider

test-postgres: deps
	@bash scripts/pg_test.sh

clean:
	rm -rf var/test test-output .pytest_cache .ruff_cache houqin/static/vendor
