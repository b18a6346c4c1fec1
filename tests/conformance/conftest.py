"""Conformance test set-up: graphql-http's audit suite, installed from package-lock.json when absent."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def graphql_http_audit() -> Path:
    """tests/conformance/audit.mjs with its node_modules in place."""
    if not (HERE / "node_modules" / "graphql-http").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return HERE / "audit.mjs"
