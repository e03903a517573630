# rt-tui: `make run` opens the app, `make test` runs the suite. Both bootstrap a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
# portaudio19-dev: PyAudio builds against it; espeak-ng + sox: test speech fixtures;
# librsvg2-bin: SVG screenshots to PNG; tmux: the end-to-end test drives the real binary; jq: a test pipes
# `rt-tui replay --json` into it.
# python3-venv, python3-dev and gcc are added only when $(PYTHON) lacks them (PyAudio builds from source).
APT_PACKAGES := portaudio19-dev espeak-ng sox librsvg2-bin tmux jq

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

system-deps: ## Install the Debian packages rt-tui needs (apt-get as root, else says what to run)
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	$(PYTHON) -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
	  || missing="$$missing python3-dev"; \
	command -v gcc >/dev/null || missing="$$missing gcc"; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then \
	    echo "rt-tui needs PortAudio headers, espeak-ng, sox, rsvg-convert, tmux and jq; install:$$missing" >&2; exit 1; \
	  elif [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "rt-tui needs Debian packages:$$missing" >&2; \
	    echo "run: sudo apt-get update && sudo apt-get install -y$$missing   (then make again)" >&2; exit 1; \
	  fi; \
	fi

$(READY): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install -q --disable-pip-version-check -e . --group test --group dev
	@touch $@

install: $(READY) ## Create .venv and install rt-tui with its test and dev tools

run: $(READY) ## Open the app (OpenAI if OPENAI_API_KEY is set, else the embedded simulator)
	$(BIN)/rt-tui $(ARGS)

serve: $(READY) ## Run the local Realtime simulator on ws://127.0.0.1:8765/v1/realtime
	$(BIN)/rt-tui serve $(ARGS)

test: $(READY) ## Run the test suite (offline: real websockets, speech engines, fake ALSA devices)
	$(BIN)/pytest $(ARGS)

# The property tests (and the simulator's frame-handler fuzz, when present), 100,000 examples each;
# `make fuzz FUZZ_PROFILE=default` runs them as briefly as `make test` does.
FUZZ_TESTS = $(wildcard tests/test_properties_*.py tests/test_server_fuzz.py)
FUZZ_PROFILE ?= fuzz

fuzz: $(READY) ## Run the property tests with 100,000 examples each and print how many ran (takes a while)
	@cmd="HYPOTHESIS_PROFILE=$(FUZZ_PROFILE) $(BIN)/pytest $(FUZZ_TESTS) --hypothesis-show-statistics $(ARGS)"; echo "$$cmd"; \
	log=$$(mktemp); trap 'rm -f "$$log"' EXIT; set -o pipefail; eval "$$cmd" | tee "$$log"; status=$$?; \
	awk '$$3 == "passing," && $$5 == "failing," {p += $$2; f += $$4} \
	  END {printf "fuzz: %d examples run (%d passing, %d failing)\n", p + f, p, f}' "$$log"; exit $$status

lint: $(READY) ## ruff, and the architecture's import contracts
	$(BIN)/ruff check tui tests
	$(BIN)/ruff format --check tui tests
	$(BIN)/lint-imports --no-cache

types: $(READY) ## mypy --strict
	$(BIN)/mypy

check: lint types test ## Lint, type-check and test

snapshots-update: $(READY) ## Accept the current UI snapshots
	$(BIN)/pytest tests/test_snapshots.py --snapshot-update

screenshots: $(READY) ## Regenerate screenshots/ (SVG and PNG) for the README
	$(BIN)/python -m tests.make_screenshots screenshots

bench: $(READY) ## Print performance figures (latency, first paint, throughput)
	$(BIN)/python -m tests.bench

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

.PHONY: help system-deps install run serve test fuzz lint types check snapshots-update screenshots bench clean
