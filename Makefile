# Two commands do all the set-up on a fresh Debian machine:
#   make run    the site on SQLite with the demo directory, on $(PORT)
#   make test   the whole test suite, on SQLite and then on PostgreSQL

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

export CROSSWORD_HINTS_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test test-sqlite test-postgres setup system-packages services bench lint clean

run: setup
	$(BIN)/crossword-hints init-db
	$(BIN)/crossword-hints load-demo --if-empty
	@echo
	@echo "Crossword Hints: http://127.0.0.1:$(PORT)/"
	@echo "Demo accounts: xword / admin-pass (admin), setter / editor-pass (editor),"
	@echo "               solver / reader-pass (in no group, cannot log in)"
	@echo
	$(BIN)/crossword-hints run --host 127.0.0.1 --port $(PORT)

test: setup services
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite:
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres:
	CROSSWORD_HINTS_TEST_DATABASE=$(PG_TEST_URL) $(BIN)/pytest $(PYTEST_ARGS)

bench: setup services
	$(BIN)/python -m bench $(BENCH_ARGS)

setup: system-packages $(VENV)/.installed

system-packages:
	sh scripts/install-system-packages.sh

services:
	sh scripts/start-services.sh

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
