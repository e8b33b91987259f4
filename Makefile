# Coalition: `make run` starts the platform, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672//
PYTEST_WORKERS ?= 2
TRANSLATIONS := coalition/translations
POT := $(TRANSLATIONS)/messages.pot
# htmx for the live parts of pages, from the npm registry's tarball (never a CDN), checked
HTMX_VERSION := 2.0.11
HTMX_SHA256 := d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
HTMX := coalition/static/vendor/htmx.min.js

.PHONY: htmx run test test-sqlite test-postgres install lint security-audit format bench chromium pango migrate demo worker clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)
	touch $(STAMP)

install: $(STAMP) $(HTMX)

## htmx: coalition/static/vendor/htmx.min.js from the htmx.org npm package (npm pack checks its integrity)
htmx: $(HTMX)

$(HTMX):
	@mkdir -p $(@D)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		(cd "$$tmp" && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && \
		 tar -xzf htmx.org-$(HTMX_VERSION).tgz package/dist/htmx.min.js package/LICENSE) && \
		echo "$(HTMX_SHA256)  $$tmp/package/dist/htmx.min.js" | sha256sum -c --quiet - && \
		cp "$$tmp/package/LICENSE" $(@D)/htmx.LICENSE && cp "$$tmp/package/dist/htmx.min.js" $@

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) coalition demo --if-empty

## run: web, relay and worker together on the embedded default (SQLite + filesystem://)
run: pango demo
	LOG_FORMAT=$${LOG_FORMAT:-text} $(BIN)/python -m worker.dev

worker: migrate
	$(BIN)/python -m worker

## test: every test on SQLite, then on PostgreSQL + RabbitMQ when they answer (required under CI=true)
test: install chromium pango lint security-audit test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## security-audit: bandit at medium severity; pip-audit too when PIP_AUDIT=1 (never fails on the network)
security-audit: install
	$(BIN)/bandit -q -r coalition worker scripts bench -ll
	$(BIN)/python -m scripts.dependency_audit

test-sqlite: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -q

test-postgres: install
	@if $(BIN)/python -m scripts.services_up "$(PG_URL)" "$(AMQP_URL)"; then \
		TEST_DATABASE_URL="$(PG_URL)" TEST_BROKER_URL="$(AMQP_URL)" \
			$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup -q; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true: PostgreSQL or RabbitMQ is unreachable; the server leg cannot be skipped"; exit 1; \
	else \
		echo "PostgreSQL or RabbitMQ unreachable: skipping the server leg (set PG_URL / AMQP_URL)"; \
	fi

## chromium: Debian's Chromium for the browser tests (installed with apt-get when root)
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true: /usr/bin/chromium is missing and cannot be installed (not root)"; exit 1; \
	else \
		echo "no /usr/bin/chromium and not root: browser tests will be skipped"; \
	fi

## pango: Debian's Pango for WeasyPrint's PDF reports (installed with apt-get when root)
pango:
	@if /sbin/ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0.so.0; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's Pango for the PDF reports"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 >/dev/null; \
	elif [ "$$CI" = "true" ]; then \
		echo "CI=true: Pango (libpangoft2-1.0-0) is missing and cannot be installed (not root)"; exit 1; \
	else \
		echo "no Pango and not root: PDF reports will fail (apt-get install libpango-1.0-0 libpangoft2-1.0-0)"; \
	fi

bench: install
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/end_to_end.py
	$(BIN)/python bench/events.py
	$(BIN)/python bench/digests.py
	$(BIN)/python bench/impact.py
	$(BIN)/python bench/suggestions.py

## translations: extract every marked message, merge it into each language's .po, compile the .mo
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ -k lazy_gettext -k _l --no-location --sort-output \
		--project Coalition --msgid-bugs-address coalition@example.org -o $(POT) .
	$(BIN)/pybabel -q update -i $(POT) -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
