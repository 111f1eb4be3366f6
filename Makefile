# Two commands do everything on a fresh machine:
#   make demo   run the analyzer live: local Kafka, the worker, a generated demo stream
#   make test   run the whole test suite (the real broker included)
# Both create .venv, install the project and fetch Kafka's jars (cached in ~/.cache/resonance).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint install system-deps clean stress

$(INSTALLED): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(INSTALLED)

# Java runs the broker and Maven fetches it; install them from Debian when missing (as root).
system-deps:
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && apt-get install -y -q openjdk-17-jre-headless maven; \
	  else \
	    echo "Java 17 and Maven are needed: install them (e.g. apt-get install openjdk-17-jre-headless maven)"; exit 1; \
	  fi; \
	fi

demo: install
	$(BIN)/resonance demo

test: install
	$(BIN)/resonance kafka fetch
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# Benchmarks print a report (ratios against baselines from the same run); see benchmarks/README.md.
.PHONY: bench
bench: install
	$(BIN)/python benchmarks/run.py

# The handover tests alone (kill -9 and restart, workers joining and leaving), repeated; they are
# part of `make test` too. Timing-sensitive by nature, so worth repeating: STRESS_RUNS=5 make stress
STRESS_RUNS ?= 3
stress: install
	$(BIN)/resonance kafka fetch
	for run in $$(seq $(STRESS_RUNS)); do $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_restart.py tests/test_rebalance.py || exit 1; done

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .resonance-data .pytest_cache .mypy_cache .ruff_cache
