# Parallel Python: the two commands are `make lab` and `make test`; both set everything up first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
PORT ?= 8888
LAB_ARGS ?=
# JupyterLab refuses to run as root (containers, CI) unless told that it is meant.
AS_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
# Problem size of every lesson: small (CI, Binder), default, large (workshop machines with many cores).
TEST_SIZE ?= small
NBVAL := --nbval-lax --nbval-current-env --nbval-cell-timeout=120 --timeout=300
QUIET_PIP := --quiet --disable-pip-version-check

.PHONY: setup lab test lint unit exercises strip check bench lock clean

setup: $(READY)

$(READY): requirements-lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(QUIET_PIP) --upgrade pip
	$(BIN)/python -m pip install $(QUIET_PIP) -r requirements-lock.txt
	$(BIN)/python -m pip install $(QUIET_PIP) --no-deps -e .
	touch $@

lab: $(READY)
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) $(AS_ROOT) --ServerApp.root_dir=. \
	  --LabApp.default_url=/lab/tree/notebooks/00_welcome_and_setup.ipynb $(LAB_ARGS)

test: $(READY) lint
	PARALLEL_COURSE_SIZE=$(TEST_SIZE) PARALLEL_COURSE_STRICT=1 \
	  $(BIN)/python -m pytest $(NBVAL) tests notebooks solutions exercises

lint: $(READY)
	$(BIN)/ruff check src tests notebooks solutions exercises

unit: $(READY)
	$(BIN)/python -m pytest tests

exercises: $(READY)
	$(BIN)/python -m parallel_course exercises

strip: $(READY)
	$(BIN)/python -c "import pathlib, parallel_course.tools.authoring as a; \
	  [print('stripped', p) for p in sorted(pathlib.Path('.').glob('[nse]*/*.ipynb')) if a.strip_outputs(p)]"

check: $(READY)
	$(BIN)/python -m parallel_course check

bench: $(READY)
	$(BIN)/python -m parallel_course bench

# Re-pin every dependency (for maintainers): a fresh environment from pyproject's bounds, then freeze.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install $(QUIET_PIP) ".[test]"
	.lock-venv/bin/python -m pip freeze --all --exclude parallel-course --exclude pip | grep -v "^-e" > requirements-lock.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) build src/*.egg-info
