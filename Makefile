# The two quick-start commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_TEST := $(VENV)/.installed-test
STAMP_BENCH := $(VENV)/.installed-bench

.PHONY: demo test lint typecheck unit bench bench-peers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_RUN)

# Benchmark-only peers (backtesting.py, vectorbt + its rust engine, backtrader); never in `make test`.
$(STAMP_BENCH): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/quantdesk demo

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP_TEST)
	$(BIN)/mypy

unit: $(STAMP_TEST)
	$(BIN)/python -m pytest -n 2 -q --durations=25

test: lint typecheck unit

bench: $(STAMP_RUN)
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/kernel.py
	$(BIN)/python benchmarks/indicators.py
	$(BIN)/python benchmarks/fundamentals.py
	$(BIN)/python benchmarks/signals.py
	$(BIN)/python benchmarks/plan_example.py
	$(BIN)/python benchmarks/user_path.py
	$(BIN)/python benchmarks/paper.py
	$(BIN)/python benchmarks/opend.py
	$(BIN)/python benchmarks/optimize.py

bench-peers: $(STAMP_BENCH)
	$(BIN)/python benchmarks/peers.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
