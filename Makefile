# CrowdCX — two commands on a fresh machine (Python 3.11+, make, apt):
#   make run    start the platform on an embedded SQLite database with demo data
#   make test   install everything and pass the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CROWDCX_DATABASE_URL ?= sqlite:///$(CURDIR)/var/crowdcx.db
# The suite runs on every core (pytest-xdist: each worker makes its own SQLite template and
# PostgreSQL database) and prints its slowest tests: `make test` must stay under 20 minutes
# (docs/STATUS.md). `make test PYTEST_ARGS=` runs it in one process.
PYTEST_ARGS ?= -n auto --durations=25

.PHONY: run test install system-deps lint typecheck pytest messages bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "CrowdCX needs Python 3.11 or newer"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	@mkdir -p var
	$(BIN)/crowdcx migrate
	$(BIN)/crowdcx demo
	$(BIN)/crowdcx serve

# Debian's Chromium and CJK fonts for the browser tests (Playwright drives /usr/bin/chromium).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check src tests bench migrations
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

# The suite always runs on SQLite; also on PostgreSQL and Redis when they answer locally.
pytest: install system-deps
	@PG=$$($(BIN)/python -c 'import socket; s=socket.socket(); s.settimeout(0.5); print("postgresql://postgres@127.0.0.1:5432/postgres" if s.connect_ex(("127.0.0.1",5432))==0 else "")'); \
	 RD=$$($(BIN)/python -c 'import socket; s=socket.socket(); s.settimeout(0.5); print("redis://127.0.0.1:6379/0" if s.connect_ex(("127.0.0.1",6379))==0 else "")'); \
	 if [ -n "$$PG" ]; then export CROWDCX_TEST_POSTGRES_URL=$${CROWDCX_TEST_POSTGRES_URL:-$$PG}; echo "PostgreSQL: $$CROWDCX_TEST_POSTGRES_URL"; fi; \
	 if [ -n "$$RD" ]; then export CROWDCX_TEST_REDIS_URL=$${CROWDCX_TEST_REDIS_URL:-$$RD}; echo "Redis: $$CROWDCX_TEST_REDIS_URL"; fi; \
	 unset CROWDCX_DATABASE_URL; $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test: lint typecheck pytest

# Re-extract UI strings and merge them into the catalogs (translators then fill them in).
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k gettext -k ngettext:1,2 --no-location --sort-output -o var/messages.pot src
	for l in zh_Hans zh_Hant ru; do $(BIN)/pybabel update -i var/messages.pot -d src/crowdcx/translations -l $$l --no-fuzzy-matching; done

bench: install
	$(BIN)/python bench/http_baseline.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
