# Two commands for a new machine: `make demo` (the main job) and `make test` (the whole suite).
# Each creates the virtual environment and installs what it needs on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The dashboard's browser tests drive the system's Chromium through playwright-core from npm.
BROWSER_STAMP := tests/browser/node_modules/.installed-stamp

.PHONY: install demo test check bench serve clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

$(BROWSER_STAMP): tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && touch $(BROWSER_STAMP); \
	else echo "npm not found: the browser tests will be skipped (CI fails instead)"; fi

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/nba-mcp-deploy demo

test: $(STAMP) $(BROWSER_STAMP)
	$(PY) -m pytest

check: $(STAMP)
	$(VENV)/bin/ruff check src tests tools examples
	$(VENV)/bin/ruff format --check src tests tools examples
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) tools/bench.py all

serve: $(STAMP)
	$(VENV)/bin/nba-mcp-deploy serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
