# Two commands on a fresh clone: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# DB: a SQLite file, :memory:, or a postgresql:// URL (then `run` installs the postgres extra)
DB ?= data/playground.db
# ENGINE: local (one process) or ray (Ray actors on every core; `run` installs the ray extra)
ENGINE ?= local
STUDENTS ?= 40

.PHONY: run test lint check-browser bench fuzz load clean

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

$(VENV)/.installed-postgres: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[postgres]'
	touch $@

$(VENV)/.installed-ray: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[ray]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

RUN_NEEDS := $(VENV)/.installed
ifneq ($(filter postgresql://% postgres://%,$(DB)),)
RUN_NEEDS += $(VENV)/.installed-postgres
endif
ifeq ($(ENGINE),ray)
RUN_NEEDS += $(VENV)/.installed-ray
endif

run: $(RUN_NEEDS)
	$(PY) -m backend --host $(HOST) --port $(PORT) --db '$(DB)' --engine $(ENGINE)

lint: $(VENV)/.installed-test
	$(PY) -m ruff check backend tests bench

check-browser:
	@$(PYTHON) tests/browser_check.py

# The whole suite, then the core's tests again with Numba hidden (the core needs only NumPy).
test: $(VENV)/.installed-test lint check-browser
	$(PY) -m pytest -q
	HIDE_NUMBA=1 $(PY) -m pytest -q -p no:cacheprovider tests/core

# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (a safety setting on some processors) slow NumPy: the
# benchmarks unset them for their own command and print which BLAS kernel ran.
bench: $(VENV)/.installed-bench
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m bench
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m bench.serve
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(PY) -m bench.costs

# Property-based fuzzing of the whole API (tests/reliability/test_fuzz.py) with many more
# examples per operation than `make test` runs, new random ones every time.
FUZZ_EXAMPLES ?= 300
fuzz: $(VENV)/.installed-test
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q --timeout=1800 -p no:cacheprovider \
		tests/reliability/test_fuzz.py

# A classroom on loopback: 40 students and a teacher for 30 s (docs/RELIABILITY.md), on the
# local engine; ENGINE=ray or ENGINE=both (the two in one run, side by side), STUDENTS=150.
load: $(VENV)/.installed-test
	$(PY) -m bench.load --engine $(ENGINE) --students $(STUDENTS)

clean:
	rm -rf $(VENV) .pytest_cache test-output
