"""Stock clients against ``customer360 serve``: their packages, the servers and one database per module.

The servers of a module share its database (a server per test would spend most of the module starting
servers), so tests here keep to their own rows and leave no subscription open.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from api.storage.client import MongoDatabase, create_client
from api.storage.embedded import free_port

# Debian's Chromium, installed when absent: shared with the browser tests.
from tests.browser.conftest import chromium  # noqa: F401
from tests.conftest import TEST_SECRET
from tests.e2e.servers import Server
from tests.node import node_modules as install_node_modules
from tests.node import run_node

HERE = Path(__file__).resolve().parent
START_DEADLINE = 60.0
NODE_PACKAGES = ("graphql-ws", "ws", "puppeteer-core")


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """tests/clients/node_modules, installed from package-lock.json when absent."""
    return install_node_modules(HERE, *NODE_PACKAGES)


@pytest.fixture(scope="module")
def settings(mongodb_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The module's settings: its own database, kept while the module's servers run."""
    return Settings(
        mongodb_uri=mongodb_uri,
        database_name=f"test_{uuid.uuid4().hex[:16]}",
        jwt_secret=TEST_SECRET,
        data_dir=tmp_path_factory.mktemp("data"),
    )


@pytest.fixture(scope="module")
async def db(settings: Settings) -> AsyncIterator[MongoDatabase]:
    """The module's database, dropped after its last test."""
    client = create_client(str(settings.mongodb_uri))
    try:
        yield client[settings.database_name]
        await client.drop_database(settings.database_name)
    finally:
        await client.close()


@dataclass(frozen=True)
class Served:
    """A running ``customer360 serve`` and its addresses."""

    server: Server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    @property
    def graphql(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}/graphql"

    async def subscriptions(self) -> int:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            count: int = (await http.get("/healthz")).json()["subscriptions"]
            return count

    async def wait_for_subscriptions(self, count: int, deadline: float = 30.0) -> None:
        """Polls the server's own count until it is ``count`` (generous deadline, not a pace)."""
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            if await self.subscriptions() == count:
                return
            await asyncio.sleep(0.05)
        pytest.fail(f"the server did not count {count} subscriptions within {deadline} s")


@pytest.fixture(scope="module")
def serve(
    settings: Settings, db: MongoDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Served]]:
    """``serve(**env)``: ``customer360 serve`` on the module's database with these settings, until the end.

    It holds ``db`` so that the servers stop before the database is dropped: a ``dropDatabase`` of the
    embedded database under a server's writes (a standing worker, a sweep) hung for minutes in one run."""
    started: list[Server] = []

    def start(**env: str) -> Served:
        base = {
            "MONGODB_URI": str(settings.mongodb_uri),
            "CUSTOMER360_DATABASE_NAME": settings.database_name,
            "CUSTOMER360_JWT_SECRET": TEST_SECRET,
        }
        server = Server(tmp_path_factory.mktemp("serve"), free_port(), base | env, "--no-demo")
        started.append(server)
        _wait_healthy(server)
        return Served(server)

    try:
        yield start
    finally:
        for server in started:
            server.stop()


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_DEADLINE
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=2) as http:
        while time.monotonic() < deadline:
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert server.process.poll() is None, "customer360 serve exited before answering /healthz"
            time.sleep(0.1)
    pytest.fail(f"customer360 serve did not answer /healthz within {START_DEADLINE} s")


@pytest.fixture(scope="module")
def development(serve: Callable[..., Served]) -> Served:
    """A development server (the default environment)."""
    return serve()


@pytest.fixture(scope="module")
def production(serve: Callable[..., Served]) -> Served:
    """A production server."""
    return serve(CUSTOMER360_ENVIRONMENT="production")


async def graphql_ws_token_refresh(
    node_modules: Path, served: Served, plan: dict[str, Any]
) -> dict[str, Any]:
    """Runs ``plan`` (see graphql_ws_token_refresh.mjs) with the stock graphql-ws client: its report."""
    await served.wait_for_subscriptions(0)
    plan = {"url": served.ws, "healthz": f"{served.url}/healthz", "graphql": served.graphql, **plan}
    script = HERE / "graphql_ws_token_refresh.mjs"
    return await run_node(script, json.dumps(plan), env={"PATH": os.environ["PATH"]})


async def graphql_ws(node_modules: Path, served: Served, plan: dict[str, Any]) -> dict[str, Any]:
    """Runs ``plan`` (see graphql_ws_run.mjs) with the stock graphql-ws client; returns its report."""
    await served.wait_for_subscriptions(0)
    plan = {"url": served.ws, "healthz": f"{served.url}/healthz", **plan}
    return await run_node(HERE / "graphql_ws_run.mjs", json.dumps(plan), env={"PATH": os.environ["PATH"]})
