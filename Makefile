# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Test processes (pytest-xdist): more than the 2 cores, since many tests wait on a `baton`
# process or on Slack's pace rather than compute; 4 ran the suite fastest of 3 to 6 on the
# 2-core machine (2026-12-02). Each has databases of its own.
TEST_WORKERS ?= 4
# Let Python cache compiled modules (an environment may forbid it): the tests start dozens
# of `baton` processes, and each would otherwise compile all of Baton's source again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint format run clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)  ## the whole lifecycle on the Slack sandbox, offline
	$(BIN)/baton demo

test: $(STAMP)  ## lint, the import layers, then every test (PostgreSQL when BATON_TEST_DATABASE_URL is set)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

run: $(STAMP)  ## against a real workspace (needs SLACK_* tokens, see README)
	$(BIN)/baton run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
