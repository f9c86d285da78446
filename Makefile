# The two commands of the README: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://root@127.0.0.1:5432/test
PYTEST_ARGS ?= -n 2
# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test test-postgres lint serve demo bench screenshots clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

install: $(BIN)/.installed

$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests (apt-get)..."
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium >/dev/null \
		|| ($(SUDO) apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium >/dev/null)

## Run the app on http://127.0.0.1:8000 with the embedded SQLite database and demo data.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## Run the test suite, browser tests included (SQLite unless DATABASE_URL is set).
test: install $(CHROMIUM)
	$(BIN)/pytest $(PYTEST_ARGS)

## Run the test suite on the local PostgreSQL server.
test-postgres: install $(CHROMIUM)
	DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Production-style server: gunicorn + whitenoise, production settings (see README for the variables).
serve: install
	DJANGO_SETTINGS_MODULE=config.settings.production $(BIN)/python manage.py collectstatic --noinput -v 0
	DJANGO_SETTINGS_MODULE=config.settings.production $(BIN)/python manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=config.settings.production $(BIN)/gunicorn config.wsgi:application \
		--config python:config.gunicorn --bind $${BIND:-127.0.0.1:8000} --workers $${WEB_CONCURRENCY:-2} --access-logfile -

## Documentation images (docs/screenshots/), taken by the browser tests.
screenshots: install $(CHROMIUM)
	E2E_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:xdist tests/e2e

## Benchmarks on the local PostgreSQL (BENCH_DATABASE_URL; the database is recreated): writes docs/benchmarks.*
## and docs/benchmarks-workspaces.* (one workspace among 100 against the same workspace alone)
bench: install
	$(BIN)/pip install --disable-pip-version-check -q -r bench/requirements.txt
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.report
	$(BIN)/python -m bench.workspaces

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache
