# The two commands: `make demo` (offline run of the built-in suites) and `make test`.
# Both create or reuse the virtual environment in .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STORE ?= runs/demo.duckdb

.PHONY: demo test lint typecheck bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/evalkit run finance-single --model scripted/disciplined --model scripted/reckless --store $(DEMO_STORE) --name demo-single --no-progress --rubric tool-discipline --rubric answer
	$(BIN)/evalkit run finance-multi --model scripted/disciplined --model scripted/reckless --store $(DEMO_STORE) --name demo-multi --no-progress --rubric tool-discipline --rubric answer
	$(BIN)/evalkit runs --store $(DEMO_STORE)

test: $(STAMP)
	$(BIN)/ruff check evalkit tests bench
	$(BIN)/ruff format --check evalkit tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check evalkit tests bench
	$(BIN)/ruff format --check evalkit tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
