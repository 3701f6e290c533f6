# Two commands on a fresh machine with python3 (3.11+) and make:
#   make run    set up .venv and start the bot (console chat when no token is set)
#   make test   set up .venv with the dev tools, then ruff, mypy and pytest
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check --quiet

.PHONY: run test lint typecheck unit check eval bench load clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(PY) -m bot run

test: lint typecheck unit

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check bot tests
	$(VENV)/bin/ruff format --check bot tests

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy bot

unit: $(VENV)/.installed-dev
	$(VENV)/bin/pytest

check: $(VENV)/.installed-run
	$(PY) -m bot check

eval: $(VENV)/.installed-run
	$(PY) -m bot eval || true
	$(PY) -m bot eval --loo

bench: $(VENV)/.installed-run
	$(PY) -m bot bench

load: $(VENV)/.installed-dev
	$(PY) -m tests.loadtest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
