# Two commands on a fresh machine: `make demo` and `make test`. Everything installs into .venv.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test bench fuzz lint clean

N ?= 10000
SEED ?= 0

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	touch $@

demo: $(STAMP)
	$(BIN)/python -m tfx_core.demos.demo

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -n 2 tests

# Long fuzzing runs (make test runs 120-300 fixed-seed cases of each): random programs eager vs
# compiled vs numpy, then mutated saved models loaded in worker processes. Findings -> JSON.
fuzz: $(DEV_STAMP)
	$(BIN)/python -m tests.fuzz.differential --n $(N) --seed $(SEED) --out fuzz-differential.json
	$(BIN)/python -m tests.fuzz.artifact_mutation --n $(N) --seed $(SEED) --out fuzz-artifacts.json

lint: $(DEV_STAMP)
	$(BIN)/ruff check tfx_core compiler runtime tests bench

bench: $(BENCH_STAMP)
	$(BIN)/python bench/dispatch.py
	$(BIN)/python bench/first_call.py
	$(BIN)/python bench/train_step.py
	$(BIN)/python bench/passes.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/models.py
	$(BIN)/python bench/conv_formulations.py

clean:
	rm -rf $(VENV) build *.egg-info
