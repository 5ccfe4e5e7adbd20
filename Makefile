# Two commands are the whole setup on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
ARGS ?=
# the suite runs in two pytest-xdist workers, one thread each, a test file per worker at a time
# (module fixtures such as the tiny demo are built once); TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= 2

.PHONY: demo quick test lint format bench bench-speed clean

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m sa3dhp demo $(ARGS)

quick: $(STAMP)
	$(PY) -m sa3dhp demo --quick $(ARGS)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q -n $(TEST_WORKERS) --dist loadfile

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# the headline profile: every stage to convergence, one seed (<= 90 min on 2 cores); resumable
bench: $(STAMP)
	$(PY) -m sa3dhp demo --config bench $(ARGS)

bench-speed: $(STAMP)
	$(PY) benchmarks/render_speed.py
	$(PY) benchmarks/synth_build.py
	$(PY) benchmarks/collect_demo.py out/demo

clean:
	rm -rf out
