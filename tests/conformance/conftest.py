"""Conformance test set-up: graphql-http's audit suite, installed from package-lock.json when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.node import node_modules

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def graphql_http_audit() -> Path:
    """tests/conformance/audit.mjs with its node_modules in place."""
    node_modules(HERE, "graphql-http")
    return HERE / "audit.mjs"
