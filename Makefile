# One entry point for people and CI. Every target builds .venv from nothing when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: help install test lint format bench demo clean browser

help:
	@echo "make demo    run Shield against its local sandbox (no accounts needed)"
	@echo "make test    lint, type-check and run the whole test suite"
	@echo "make lint    ruff check, ruff format --check, mypy"
	@echo "make format  apply ruff's fixes and formatting"
	@echo "make bench   print the performance table"
	@echo "make clean   remove the virtual environment and caches"

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

test: lint browser
	$(BIN)/python -m pytest

# Web tests drive Debian's Chromium with Playwright; Playwright's own browser download is never
# used (it cannot be fetched here, and the system browser is the one people run).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is needed for the web tests: sudo apt-get install chromium"; exit 1; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks

demo: $(STAMP)
	$(BIN)/shield demo

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
