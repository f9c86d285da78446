# The two commands of the README: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://root@127.0.0.1:5432/test
PYTEST_ARGS ?= -n 2
# The browser tests drive Debian's Chromium (Playwright cannot download browsers here).
CHROMIUM ?= /usr/bin/chromium
XMLSEC1 ?= /usr/bin/xmlsec1
OIDC_IDP := tests/idp/oidc
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

# The SAML tests' identity provider (pysaml2) signs and verifies with Debian's xmlsec1.
$(XMLSEC1):
	@echo "Installing Debian's xmlsec1 for the SAML tests (apt-get)..."
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q xmlsec1 >/dev/null \
		|| ($(SUDO) apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q xmlsec1 >/dev/null)

# The test OpenID provider (npm oidc-provider, run by Node 20+) from the committed lockfile; installed
# again only when node_modules is missing or older than the lockfile (the stamp inside node_modules).
$(OIDC_IDP)/node_modules/.installed: $(OIDC_IDP)/package-lock.json $(OIDC_IDP)/package.json
	@command -v npm >/dev/null || { echo "npm is missing: the test OpenID provider needs Node.js 20 or later" >&2; exit 1; }
	cd $(OIDC_IDP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

TEST_TOOLS := $(CHROMIUM) $(XMLSEC1) $(OIDC_IDP)/node_modules/.installed

## Run the app on http://127.0.0.1:8000 with the embedded SQLite database and demo data.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## Run the test suite, browser tests included (SQLite unless DATABASE_URL is set), with the test identity
## providers' tools: Node packages (npm ci) and xmlsec1.
test: install $(TEST_TOOLS)
	$(BIN)/pytest $(PYTEST_ARGS)

## Run the test suite on the local PostgreSQL server.
test-postgres: install $(TEST_TOOLS)
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
screenshots: install $(TEST_TOOLS)
	E2E_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:xdist tests/e2e

## Benchmarks on the local PostgreSQL (BENCH_DATABASE_URL; the database is recreated): writes docs/benchmarks.*,
## docs/benchmarks-workspaces.* (one workspace among 100 against the same workspace alone) and docs/benchmarks-signin.*
## (OpenID Connect sign-in against the test provider, next to django-allauth)
bench: install $(OIDC_IDP)/node_modules/.installed
	$(BIN)/pip install --disable-pip-version-check -q -r bench/requirements.txt
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.report
	$(BIN)/python -m bench.workspaces
	$(BIN)/python -m bench.signin

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache $(OIDC_IDP)/node_modules
