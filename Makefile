# Two commands on a fresh machine with python3 (3.11+) and make:
#   make run    set up .venv and start the bot (console chat when no token is set)
#   make test   set up .venv with the dev tools, then ruff, mypy and pytest
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check --quiet
# Exact versions with hashes (make lock refreshes them on purpose); the project itself is
# installed on top without dependencies, built with the locked hatchling.
RUN_LOCK := requirements/run.lock
DEV_LOCK := requirements/dev.lock
PIP_TOOLS := pip-tools==7.6.2
COMPILE  = $(VENV)-lock/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
           --all-build-deps --no-emit-index-url --no-emit-find-links

.PHONY: run test lint typecheck unit check eval bench load lock clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml $(RUN_LOCK) | $(VENV)/bin/python
	$(PIP) install --require-hashes -r $(RUN_LOCK)
	$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(DEV_LOCK) | $(VENV)/bin/python
	$(PIP) install --require-hashes -r $(DEV_LOCK)
	$(PIP) install --no-deps --no-build-isolation -e .
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

# Resolve pyproject.toml's ranges afresh into the lock files (run, then dev constrained to it).
lock:
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip --disable-pip-version-check --quiet install $(PIP_TOOLS)
	$(COMPILE) --upgrade -o $(RUN_LOCK) pyproject.toml
	$(COMPILE) --upgrade --extra dev -c $(RUN_LOCK) -o $(DEV_LOCK) pyproject.toml
	rm -rf $(VENV)-lock

clean:
	rm -rf $(VENV) $(VENV)-lock .pytest_cache .mypy_cache .ruff_cache .hypothesis
