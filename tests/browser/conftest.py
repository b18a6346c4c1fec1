"""Browser test set-up: Chromium, puppeteer-core, GraphiQL's assets and the app on a real socket."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from api.http.graphiql_files import PACKAGED, missing_assets
from api.settings import Settings
from tests.node import exclusive, node_modules

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")


def run(
    command: Sequence[str], *, timeout: float, cwd: Path = REPO, env: dict[str, str] | None = None
) -> None:
    """Runs a set-up command, failing the test with its output when it fails."""
    done = subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed when absent (the test machines run as root)."""
    with exclusive(CHROMIUM):
        if not CHROMIUM.exists():
            apt = {"DEBIAN_FRONTEND": "noninteractive"}
            run(["apt-get", "update"], timeout=600, env=apt)
            run(["apt-get", "install", "-y", "chromium"], timeout=1200, env=apt)
    return CHROMIUM


@pytest.fixture(scope="session")
def puppeteer() -> Path:
    """tests/browser/node_modules, installed from package-lock.json when absent."""
    return node_modules(HERE, "puppeteer-core")


@pytest.fixture(scope="session")
def graphiql_assets() -> Path:
    """Where ``make graphiql-assets`` puts GraphiQL's files (in the package); fetched here when missing."""
    with exclusive(PACKAGED):
        if missing_assets(PACKAGED):
            run([sys.executable, "-m", "api.http.graphiql_files"], timeout=600)
    assert missing_assets(PACKAGED) == []
    return PACKAGED


@pytest.fixture
def settings(settings: Settings, graphiql_assets: Path) -> Settings:
    return settings.model_copy(update={"graphiql_assets_dir": graphiql_assets})
