# Two commands on a fresh clone: `make run` (demo on http://127.0.0.1:8000) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
SMTP_PORT ?= 8025

.PHONY: install studio run test lint test-sqlite test-postgres bench clean diagrams

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The studio's modeler (bpmn-js, from the npm registry at the versions package-lock.json pins),
# bundled by esbuild into api/static/studio/ (git-ignored). Without npm the rest installs, and
# the studio's page says that its modeler is not built.
STUDIO_STAMP := api/static/studio/BUILT
STUDIO_SOURCES := package.json package-lock.json studio/build.mjs $(wildcard studio/src/*.* studio/src/*/*.*)

$(STUDIO_STAMP): $(STUDIO_SOURCES)
	@if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then \
		echo "== studio modeler: npm ci and esbuild =="; \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && node studio/build.mjs; \
	else \
		echo "== SKIPPED the studio modeler: npm not found (install Node.js 20+ and npm, then make install); /studio/<key>/edit says it is not built =="; \
	fi

studio: $(STUDIO_STAMP)

install: $(STAMP) $(STUDIO_STAMP)

run: $(STAMP) $(STUDIO_STAMP)
	TOVHOLDER_DEMO=1 $(BIN)/tovholder demo
	@echo "Serving http://127.0.0.1:$(PORT) (API docs at /docs); the worker runs beside it, and the"
	@echo "reminder and escalation e-mails it sends are printed here by a local SMTP sink on 127.0.0.1:$(SMTP_PORT)."
	@echo "Ctrl-C stops all three."
	@TOVHOLDER_DEMO=1 SMTP_HOST=127.0.0.1 SMTP_PORT=$(SMTP_PORT) bash -c ' \
		$(BIN)/python -m aiosmtpd -n -l 127.0.0.1:$(SMTP_PORT) -c aiosmtpd.handlers.Debugging & smtp=$$!; \
		$(BIN)/tovholder worker & worker=$$!; \
		trap "kill $$worker $$smtp 2>/dev/null" EXIT INT TERM; \
		$(BIN)/tovholder serve --port $(PORT)'

# Both halves at once, each spread over pytest-xdist workers: the two cores stay busy while
# one half waits on PostgreSQL or a browser. Each half's output is printed when it ends.
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

test: $(STUDIO_STAMP) lint
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: $(STAMP)
	@echo "== ruff and mypy =="
	$(BIN)/ruff check .
	$(BIN)/mypy

test-sqlite: $(STAMP)
	@echo "== test suite on SQLite =="
	$(PYTEST)

# Runs the suite again on PostgreSQL: TEST_DATABASE_URL if set, else a server
# at 127.0.0.1:5432 (database test); skipped with the reason when none answers.
test-postgres: $(STAMP)
	@url="$${TEST_DATABASE_URL:-$$($(BIN)/python -m tests.find_postgres)}"; \
	if [ -z "$$url" ]; then \
		echo "== SKIPPED the PostgreSQL half: no server answers at 127.0.0.1:5432 (set TEST_DATABASE_URL) =="; \
	else \
		echo "== test suite on PostgreSQL =="; \
		TEST_DATABASE_URL="$$url" $(PYTEST); \
	fi

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache node_modules bench/peer/node_modules api/static/studio

# Lays out every processes/**/*.bpmn whose diagram is incomplete (only the
# BPMNDI part is written; the process XML stays as it is; a diagram arranged
# by hand in a modeler is left alone), renders each to docs/img/<name>.svg and
# rewrites the step tables in docs/journeys.md.
# tests/test_diagram_tools.py fails when a picture is missing or out of date.
diagrams: $(STAMP)
	$(BIN)/python -m scripts.bpmn_layout --di-only --missing-only processes
	$(BIN)/python -m scripts.render_bpmn --all --root processes --out docs/img
	$(BIN)/python -m scripts.journey_tables
