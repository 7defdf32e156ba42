# Houqin 后勤. The two commands are `make run` and `make test` (see README.md).
#
# Steps that download are stamped under .venv/.houqin-stamps and re-run only when their input
# changes (requirements.lock, package-lock.json, the vendor script) or their output has gone
# missing, so a second `make deps` does nothing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV    := .venv
PY      := $(VENV)/bin/python
STAMPS  := $(VENV)/.houqin-stamps
VENDOR  := houqin/static/vendor

# A hung test must not eat CI's 90 minutes: a test running longer than 5 minutes gets the stack of
# every thread printed (pytest's faulthandler_timeout), and a whole run longer than these limits
# gets SIGINT, then SIGKILL 60 s later. E.g. `make test PYTEST_TIMEOUT=90m`.
PYTEST_TIMEOUT    ?= 45m
PG_PYTEST_TIMEOUT ?= 20m
PYTEST_ARGS       ?= -o faulthandler_timeout=300

# Re-run a stamped step whose output was deleted by hand (node_modules, the vendor folder).
NPM_GONE    := $(if $(wildcard node_modules/.package-lock.json),,FORCE)
VENDOR_GONE := $(if $(wildcard $(VENDOR)/.vendored),,FORCE)

.PHONY: help deps fonts test-deps run test lint clean FORCE

help:
	@echo "make run     install what is missing, migrate, create the demo school once, serve http://$${HOUQIN_BIND:-127.0.0.1:8000}"
	@echo "             with the background job worker and scheduler (manage.py serve)"
	@echo "make test    install what the tests need, then ruff, makemigrations --check, pytest on SQLite"
	@echo "             (browser tests included) and again, without the browser tests, on a throwaway PostgreSQL"
	@echo "make deps    only the Python venv, npm packages and houqin/static/vendor"
	@echo "make fonts   only the CJK font (fonts-noto-cjk) when none is installed"
	@echo "make lint    ruff"
	@echo "make clean   remove test output and generated static files (keeps .venv, node_modules and var/'s data)"

# --- dependencies -----------------------------------------------------------------------------

$(PY):
	python3 -m venv $(VENV)

# Python packages from the committed lock (made by `uv pip compile pyproject.toml --extra dev`).
$(STAMPS)/pip: requirements.lock | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	@mkdir -p $(STAMPS) && touch $@

# Front-end libraries from the npm registry (never a CDN), exactly as package-lock.json says.
$(STAMPS)/npm: package-lock.json package.json $(NPM_GONE) | $(PY)
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

# Copy the built files the pages use into the git-ignored houqin/static/vendor.
$(STAMPS)/vendor: $(STAMPS)/npm scripts/vendor_static.py $(VENDOR_GONE)
	python3 scripts/vendor_static.py
	@mkdir -p $(STAMPS) && touch $@

deps: $(STAMPS)/pip $(STAMPS)/vendor

FORCE:

# --- system packages (Debian) -----------------------------------------------------------------

fonts:
	@bash scripts/install_fonts.sh

test-deps:
	@bash scripts/install_test_deps.sh

# --- the two commands ---------------------------------------------------------------------------

# `manage.py serve` runs the web server (gunicorn), the job worker and the scheduler and stops all
# three together (Ctrl-C); see README.md, Processes.
run: deps fonts
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py demo_logins
	exec $(PY) manage.py serve

test: deps test-deps
	$(VENV)/bin/ruff check .
	DJANGO_SETTINGS_MODULE=houqin.settings_test $(PY) manage.py makemigrations --check --dry-run
	timeout --foreground -s INT -k 60 $(PYTEST_TIMEOUT) $(VENV)/bin/pytest $(PYTEST_ARGS) || { \
	  rc=$$?; [[ $$rc -ne 124 && $$rc -ne 137 ]] || echo "pytest did not finish within $(PYTEST_TIMEOUT)" >&2; exit $$rc; }
	HOUQIN_PG_MARK="not e2e" HOUQIN_PYTEST_TIMEOUT=$(PG_PYTEST_TIMEOUT) bash scripts/pg_test.sh $(PYTEST_ARGS)

# --- others -------------------------------------------------------------------------------------

lint: $(STAMPS)/pip
	$(VENV)/bin/ruff check .

# Test artefacts and generated files only: never .venv, node_modules, nor the database, secret
# key, media and backups in var/.
clean:
	rm -rf var/test var/static test-output staticfiles .pytest_cache .hypothesis .ruff_cache $(VENDOR)
	rm -f $(STAMPS)/vendor
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
