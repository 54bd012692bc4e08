# Two commands on a fresh clone: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DB ?= data/playground.db

.PHONY: run test lint check-browser bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

run: $(VENV)/.installed
	$(PY) -m backend --host $(HOST) --port $(PORT) --db $(DB)

lint: $(VENV)/.installed-test
	$(PY) -m ruff check backend tests bench

check-browser:
	@$(PYTHON) tests/browser_check.py

test: $(VENV)/.installed-test lint check-browser
	$(PY) -m pytest -q

bench: $(VENV)/.installed-bench
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache test-output
