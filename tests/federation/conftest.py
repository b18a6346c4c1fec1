"""Federation test set-up: the server built as a subgraph, and Apollo composition installed from its lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings
from tests.node import node_modules

HERE = Path(__file__).resolve().parent


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The usual test settings with federation on."""
    return settings.model_copy(update={"federation": True})


@pytest.fixture(scope="session")
def composer() -> Path:
    """tests/federation/compose.mjs with its node_modules in place (npm ci from package-lock.json)."""
    node_modules(HERE, "@apollo/composition")
    return HERE / "compose.mjs"
