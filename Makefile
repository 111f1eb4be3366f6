# Two commands do everything on a fresh machine:
#   make demo   run the analyzer live: local Kafka, the worker, a generated demo stream
#   make test   run the whole test suite (the real broker included)
# Both create .venv, install the project and fetch Kafka's jars (cached in ~/.cache/resonance).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint install native system-deps clean stress vendor

$(INSTALLED): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(INSTALLED)

# The per-event core compiled to C by mypyc (cli/native.py says what and why), rebuilt when
# any source of the core changes.
NATIVE_BUILT := $(VENV)/.native

$(NATIVE_BUILT): $(INSTALLED) $(wildcard models/*.py models/*/*.py streams/*.py streams/*/*.py cli/native.py)
	@echo "compiling the core with mypyc (about a minute; log in $(VENV)/native.log)"
	@$(BIN)/python -m cli.native >$(VENV)/native.log 2>&1 || { tail -30 $(VENV)/native.log; exit 1; }
	@touch $@

native: $(NATIVE_BUILT)

# Java runs the broker and Maven fetches it; install them from Debian when missing (as root),
# and the C compiler mypyc needs, Prometheus and Chromium for the tests.
system-deps:
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && apt-get install -y -q openjdk-17-jre-headless maven; \
	  else \
	    echo "Java 17 and Maven are needed: install them (e.g. apt-get install openjdk-17-jre-headless maven)"; exit 1; \
	  fi; \
	fi
	@# mypyc compiles the core (make native) with a C compiler and Python's headers.
	@if ! command -v cc >/dev/null || ! $(PYTHON) -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && apt-get install -y -q gcc python3-dev; \
	  else \
	    echo "A C compiler and Python's headers are needed: install them (e.g. apt-get install gcc python3-dev)"; exit 1; \
	  fi; \
	fi
	@# The tests run a real Prometheus (and promtool) against a worker, and the dashboard page in a
	@# headless Chromium: Debian's packages, without their recommends (no desktop, no exporters).
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null || ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && apt-get install -y -q --no-install-recommends prometheus chromium; \
	  else \
	    echo "Prometheus and Chromium are needed: install them (e.g. apt-get install --no-install-recommends prometheus chromium)"; exit 1; \
	  fi; \
	fi

demo: native
	$(BIN)/resonance demo

test: native
	$(BIN)/resonance kafka fetch
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

# Benchmarks print a report (ratios against baselines from the same run); see benchmarks/README.md.
.PHONY: bench
bench: native
	$(BIN)/python benchmarks/run.py

# The handover tests alone (kill -9 and restart, workers joining and leaving), repeated; they are
# part of `make test` too, where the repeated kill -9 kills twice: here it kills STRESS_KILLS (5)
# times. Timing-sensitive by nature, so worth repeating: STRESS_RUNS=5 make stress
STRESS_RUNS ?= 3
STRESS_KILLS ?= 5
stress: native
	$(BIN)/resonance kafka fetch
	for run in $$(seq $(STRESS_RUNS)); do RESONANCE_TEST_KILLS=$(STRESS_KILLS) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_restart.py tests/test_rebalance.py || exit 1; done

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .resonance-data .pytest_cache .mypy_cache .ruff_cache build models/_native.sources.json streams/_native.sources.json
	find models streams -name '*.so' -delete

# The dashboard's vendored JavaScript, fetched again from npm at the pinned version (the committed
# files are checked against their SHA-256 in tests/test_dashboard_vendor.py: update both together).
UPLOT_VERSION := 1.6.32
VENDOR := agents/dashboard/static/vendor
vendor:
	rm -rf $(VENDOR)/.fetch && mkdir -p $(VENDOR)/.fetch
	cd $(VENDOR)/.fetch && npm pack --silent uplot@$(UPLOT_VERSION) >/dev/null && tar -xzf uplot-$(UPLOT_VERSION).tgz
	cp $(VENDOR)/.fetch/package/dist/uPlot.iife.min.js $(VENDOR)/.fetch/package/dist/uPlot.min.css $(VENDOR)/
	cp $(VENDOR)/.fetch/package/LICENSE $(VENDOR)/uPlot.LICENSE.txt
	rm -rf $(VENDOR)/.fetch
