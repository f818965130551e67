# MangaAssist developer commands. `make` alone lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install run test check format bench openapi clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install MangaAssist with its test tools (pinned)

run: $(STAMP) ## Serve on http://127.0.0.1:8000, loading the curated catalog into an empty store
	$(BIN)/mangaassist catalog load --if-empty
	$(BIN)/mangaassist serve

check: $(STAMP) ## Lint, format check and mypy --strict
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

test: check ## check, then every test (unit, integration, contract, e2e)
	$(BIN)/python -m pytest

format: $(STAMP) ## Format and autofix the code
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP) ## Search, chat, stream, queue and event benchmarks, search quality, chat accuracy
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.search_quality
	$(BIN)/python -m bench.chat_eval
	$(BIN)/python -m bench.stream
	$(BIN)/python -m bench.queues
	$(BIN)/python -m bench.events
	$(BIN)/python -m bench.faults
	@if command -v wrk >/dev/null; then $(BIN)/python -m bench.chat; \
	 else echo "skipping bench.chat: install wrk (apt-get install wrk)"; fi

openapi: $(STAMP) ## Regenerate openapi.json from the API models
	$(BIN)/mangaassist openapi

clean: ## Remove the virtualenv, caches and the local database
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
