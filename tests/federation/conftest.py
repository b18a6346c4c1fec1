"""Federation test set-up: the server built as a subgraph, and Apollo composition installed from its lock."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from api.settings import Settings

HERE = Path(__file__).resolve().parent


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The usual test settings with federation on."""
    return settings.model_copy(update={"federation": True})


@pytest.fixture(scope="session")
def composer() -> Path:
    """tests/federation/compose.mjs with its node_modules in place (npm ci from package-lock.json)."""
    if not (HERE / "node_modules" / "@apollo" / "composition").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return HERE / "compose.mjs"
