# The two commands a new machine needs: `make serve` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
ASSETS := .customer360/graphiql-assets

.PHONY: serve test lint typecheck schema graphiql-assets bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

graphiql-assets: $(INSTALLED)
	bash scripts/fetch_graphiql_assets.sh $(ASSETS)

serve: $(INSTALLED) graphiql-assets
	$(BIN)/customer360 serve

lint: $(INSTALLED)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(INSTALLED)
	$(BIN)/mypy

schema: $(INSTALLED)
	$(BIN)/customer360 export-schema
	$(BIN)/customer360 export-schema --federation

# Benchmarks (not part of `make test`): data sets, the server as its own process, BENCHMARKS.md.
# Pass options through BENCH_ARGS, e.g. `make bench BENCH_ARGS="--sizes 1000 --requests 100"`.
bench: $(INSTALLED)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Hardening checks on their own (both also run in `make test`): the GraphQL-over-HTTP audit and the fuzzer.
.PHONY: audit fuzz
audit: $(INSTALLED)
	$(BIN)/pytest tests/conformance

fuzz: $(INSTALLED)
	$(BIN)/pytest tests/fuzz

test: lint typecheck graphiql-assets
	$(BIN)/customer360 export-schema --check
	$(BIN)/customer360 export-schema --federation --check
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .customer360 .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
