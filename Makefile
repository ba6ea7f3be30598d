# gridgov — two commands: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# PostgreSQL for the second test run (trust auth on this machine; see .ci/run).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/gridgov
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite test-postgres venv lint typecheck bench messages clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing gridgov and its dependencies into $(VENV) …"
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

## Set up everything and run the product on SQLite: http://$(HOST):$(PORT)/
## The small street (8 grids) with a simulated month takes a few minutes on a fresh machine;
## `make demo DEMO_SCALE=full` builds the seed's Gudang street (550 micro-grids, 246 grid
## workers) but its month takes tens of minutes (docs/demo.md). Re-running adds nothing twice.
DEMO_SCALE ?= small
demo: venv
	$(BIN)/gridgov migrate --noinput
	$(BIN)/gridgov seed-demo --scale $(DEMO_SCALE)
	$(BIN)/gridgov simulate --days 30
	$(BIN)/gridgov iot-simulate --households 12 --hours 48 --direct
	$(BIN)/gridgov generate --days 7
	$(BIN)/gridgov sweep
	$(BIN)/gridgov collectstatic --noinput -v 0
	$(BIN)/gridgov demo-serve $(HOST):$(PORT)

## Lint and type-check, then run the whole suite on SQLite, then on PostgreSQL.
test: venv lint typecheck test-sqlite test-postgres

test-sqlite: venv
	@echo "=== test suite on SQLite ==="
	env -u DATABASE_URL $(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: venv
	@echo "=== test suite on PostgreSQL ($(PG_TEST_URL)) ==="
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check gridgov bench
	$(BIN)/ruff format --check gridgov bench

typecheck: venv
	$(BIN)/mypy gridgov

## Every benchmark in bench/: one JSON line per figure.
bench: venv
	$(BIN)/python -m bench

## Refresh and compile the translation catalogues (needs GNU gettext). Each app keeps its
## own catalogue in <app>/locale; gridgov/locale holds the project-level strings.
APP_LOCALES = $(wildcard gridgov/*/locale)
messages: venv
	@for dir in $(APP_LOCALES); do \
	  app=$$(dirname $$dir); echo "makemessages: $$app"; \
	  (cd $$app && $(CURDIR)/$(BIN)/gridgov makemessages -l zh_Hans --no-obsolete -v 0) || exit 1; \
	done
	cd gridgov && $(CURDIR)/$(BIN)/gridgov makemessages -l zh_Hans --no-obsolete -v 0 \
	  $(foreach dir,$(APP_LOCALES),-i '$(notdir $(patsubst %/locale,%,$(dir)))/*') -i 'tests/*'
	cd gridgov && $(CURDIR)/$(BIN)/gridgov compilemessages -v 0

clean:
	rm -rf $(VENV) var/ .pytest_cache .mypy_cache .ruff_cache
