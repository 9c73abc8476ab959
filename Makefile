# Two commands for a fresh machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# The real Pulumi CLI and Pulumi YAML's language host, built from Pulumi's Go modules
# (tools/pulumi-cli, tools/pulumi-yaml): the tests that run them skip without them, except in CI.
# `make test` and `make demo` build them where Go is installed (a second run reuses them);
# without Go, `make demo` says so and runs the Python example programs under Pulumi's mocks.
HAVE_GO := $(shell command -v go 2>/dev/null)

.PHONY: demo test lint bench clean pulumi-cli

# One virtualenv; each command installs into it what it needs, again when pyproject.toml changes
# (one marker file per set of extras): the package alone for the demo, the dev tools and the
# benchmark peers for the tests (the quick benchmark smoke test is one of them), the dev tools
# for lint, the benchmark peers for the benchmarks.
$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BIN)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(BIN)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

$(BIN)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

demo: $(BIN)/.installed $(if $(HAVE_GO),pulumi-cli)  ## Run the demo against the bundled emulator
	$(if $(HAVE_GO),,@echo "make demo: Go is not installed, so there is no Pulumi CLI to build: the Python examples run under Pulumi's mocks")
	$(BIN)/python examples/demo.py

test: $(BIN)/.installed-test $(if $(HAVE_GO),pulumi-cli)  ## Run every test
	$(BIN)/python -m pytest

pulumi-cli:  ## Build the Pulumi CLI and the YAML host into .tools/pulumi/bin (needs Go; reuses)
	tools/pulumi-cli/build.sh

lint: $(BIN)/.installed-dev  ## ruff and mypy --strict
	$(BIN)/ruff check provider tests examples bench tools
	$(BIN)/ruff format --check provider tests examples bench tools
	$(BIN)/mypy --strict provider/pulumi_yc_websocket tools

bench: $(BIN)/.installed-bench  ## Benchmarks (ratios against baselines measured in the same run)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .tools build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
