PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint format bench dist FORCE

install: $(VENV)/.installed

# The stamp makes `make install` idempotent and re-runs pip only when the dependencies change.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("hackatime needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/hackatime serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

# BENCH_N=100000 make bench for a quick run; the default 1,000,000 takes a few minutes.
BENCH_N ?= 1000000
bench: install
	BENCH_N=$(BENCH_N) $(BIN)/python -m bench

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# One executable file, dist/hackatime: the app and every runtime dependency in a zipapp (shiv) that
# runs with the system python3 of any version from 3.11 (deploy/single_file.py). Rebuilt only when
# a source or DIST_PIP_ARGS changes; the same sources and dependency versions give the same bytes.
# The compiled dependencies (orjson) are for the build machine's architecture: build on the Pi,
# or pass pip options in DIST_PIP_ARGS (README, "On a Raspberry Pi").
DIST_SOURCES := pyproject.toml app.py deploy/single_file.py $(shell find hackatime -type f ! -path '*/__pycache__/*')
dist: dist/hackatime

dist/hackatime: $(VENV)/.installed $(DIST_SOURCES) dist/.pip-args
	$(BIN)/python deploy/single_file.py $@ $(DIST_PIP_ARGS)

# The pip options of the last build, rewritten only when they change: `make dist` after a build
# for the Pi (or the other way round) must rebuild, not keep the file for the other machine.
dist/.pip-args: FORCE
	@mkdir -p dist
	@echo '$(DIST_PIP_ARGS)' | cmp -s - $@ || echo '$(DIST_PIP_ARGS)' > $@
