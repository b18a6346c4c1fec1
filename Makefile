# The two commands a new machine needs: `make serve` and `make test`. Both create .venv on first use.
# `make serve` installs what serving needs (the runtime and the embedded database); `make test` adds the
# development toolchain. Both install the exact versions tested, from the lock files in requirements/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
SERVING := $(VENV)/.serving
INSTALLED := $(VENV)/.installed
# Test processes: most tests wait on servers and child processes, so two share two cores well.
TEST_WORKERS ?= 2

.PHONY: serve test lint typecheck schema graphiql-assets bench lock clean

$(SERVING): pyproject.toml requirements/serve.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes -r requirements/serve.txt
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(INSTALLED): $(SERVING) requirements/dev.txt
	$(PIP) install --quiet --require-hashes -r requirements/dev.txt
	touch $@

# GraphiQL's files, from the npm registry into the package (a wheel build fetches them itself).
graphiql-assets: $(SERVING)
	$(BIN)/python -m api.http.graphiql_files

serve: $(SERVING) graphiql-assets
	$(BIN)/customer360 serve

# Recompile the lock files from pyproject.toml, keeping the pinned versions that still fit
# (`make lock LOCK_ARGS=--upgrade` takes the newest ones). Commit them with the pyproject.toml change.
LOCK := $(BIN)/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes
lock: $(INSTALLED)
	$(LOCK) --extra embedded $(LOCK_ARGS) -o requirements/serve.txt
	$(LOCK) --extra embedded --extra dev -c requirements/serve.txt $(LOCK_ARGS) -o requirements/dev.txt

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
# Pass options through BENCH_ARGS, e.g. `make bench BENCH_ARGS="--sizes 1000 --requests 100"`, or
# `make bench BENCH_ARGS="--only first-start"` for the first and second start alone.
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
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) .customer360 api/http/graphiql_assets build dist .mypy_cache .ruff_cache .pytest_cache \
		.import_linter_cache
