# Two entry points for a fresh machine: `make demo` (install + build + load) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= synrl
PER_TASK ?= 20
NUM_PROC ?= 2

.PHONY: demo test lint check-gen bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.gen: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[gen]"
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# Render a small short-term dataset into ./synrl and load it the way users do.
demo: $(VENV)/.gen
	$(BIN)/synrl build --out $(OUT) --configs short_term --per-task $(PER_TASK) --seed 0 --num-proc $(NUM_PROC)
	$(BIN)/python -c 'from datasets import load_dataset; ds = load_dataset("$(OUT)", "short_term"); print(ds); row = ds["train"][0]; print({k: row[k] for k in ("id", "task", "question", "answer", "answer_type", "duration")})'

test: $(VENV)/.dev lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The `gen` install alone (no torch, scipy or scikit-learn) builds and audits: what `make demo`'s venv can do.
GEN_VENV ?= .venv-gen
check-gen:
	rm -rf $(GEN_VENV) .gen-check
	$(PYTHON) -m venv $(GEN_VENV)
	$(GEN_VENV)/bin/pip install -q -e ".[gen]"
	$(GEN_VENV)/bin/synrl build --out .gen-check --configs direction,card_stack --per-task 6 --resolution 128 --seed 0 --no-progress --audit --num-proc 2
	$(GEN_VENV)/bin/synrl eval --fixtures --model oracle --output-dir .gen-check/eval 2> .gen-check/eval.err; test $$? -eq 2
	grep -q "needs the \[eval\] extra" .gen-check/eval.err && test ! -e .gen-check/eval
	$(GEN_VENV)/bin/synrl build --out .gen-check/ray --configs direction --per-task 1 --engine ray 2> .gen-check/ray.err; test $$? -eq 2
	grep -q "needs the \[ray\] extra" .gen-check/ray.err && test ! -e .gen-check/ray
	! $(GEN_VENV)/bin/python -c "import torch" 2>/dev/null
	rm -rf $(GEN_VENV) .gen-check

bench: $(VENV)/.dev
	$(BIN)/python perf/bench_generate.py

clean:
	rm -rf $(VENV) $(GEN_VENV) $(OUT) .gen-check .pytest_cache
