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

typecheck: $(INSTALLED)
	$(BIN)/mypy

schema: $(INSTALLED)
	$(BIN)/customer360 export-schema

test: lint typecheck graphiql-assets
	$(BIN)/customer360 export-schema --check
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .customer360 .mypy_cache .ruff_cache .pytest_cache
