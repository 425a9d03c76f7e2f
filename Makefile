# `make run` and `make test` work on a fresh machine with Python 3.11: they build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= runs/main

.PHONY: run test test-all setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	# The CPU build of torch first, so the dependency resolver never pulls CUDA wheels.
	$(BIN)/python -m pip install "torch==2.13.0"
	$(BIN)/python -m pip install -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# The main job: a real run on the embedded local Ray with the shipped demonstrations.
run: $(STAMP)
	$(BIN)/python experiments/main_job.py --out $(OUT)

# CI's selection: everything but the tests marked slow (each over a minute on 2 cores).
test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs
