"""Browser test set-up: Chromium, puppeteer-core, GraphiQL's assets and the app on a real socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.graphiql import missing_assets
from api.settings import Settings

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHROMIUM = Path("/usr/bin/chromium")
START_TIMEOUT = 20.0


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
    if not CHROMIUM.exists():
        apt = {"DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update"], timeout=600, env=apt)
        run(["apt-get", "install", "-y", "chromium"], timeout=1200, env=apt)
    return CHROMIUM


@pytest.fixture(scope="session")
def puppeteer() -> Path:
    """tests/browser/node_modules, installed from package-lock.json when absent."""
    if not (HERE / "node_modules" / "puppeteer-core").is_dir():
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, timeout=600)
    return HERE / "node_modules"


@pytest.fixture(scope="session")
def graphiql_assets() -> Path:
    """Where ``make graphiql-assets`` puts GraphiQL's files; fetched here when missing."""
    directory: Path = REPO / Settings.model_fields["graphiql_assets_dir"].default
    if missing_assets(directory):
        script = REPO / "scripts" / "fetch_graphiql_assets.sh"
        run(["bash", str(script), str(directory)], timeout=600, env={"PYTHON": sys.executable})
    assert missing_assets(directory) == []
    return directory


@pytest.fixture
def settings(settings: Settings, graphiql_assets: Path) -> Settings:
    return settings.model_copy(update={"graphiql_assets_dir": graphiql_assets})


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a background thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, thread)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not stop"


def _wait_healthy(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(base_url=url, timeout=2) as client:
        while time.monotonic() < deadline:
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            # Waiting on the thread both paces the polling and notices a server that died.
            thread.join(timeout=0.05)
            if not thread.is_alive():
                pytest.fail("uvicorn exited before answering /healthz")
    pytest.fail(f"{url}/healthz did not answer within {START_TIMEOUT} s")
