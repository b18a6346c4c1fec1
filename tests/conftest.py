"""Test harness: one real database server per session, a fresh database per test, the app over HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest
import strawberry
import uvicorn
import websockets
from pymongo import monitoring
from starlette.applications import Starlette

from api.http.app import create_app
from api.settings import Settings
from api.storage.client import MongoDatabase, MongoUnitOfWork, create_client, ensure_schema
from api.storage.embedded import EmbeddedDatabase
from auth.principal import Role
from auth.tokens import issue_dev_token
from domain.repositories import Repositories

TEST_SECRET = "test-secret-with-enough-entropy-0123456789"
# Seconds the database of a test may take to drop: far more than it takes, far less than a hung suite.
DROP_WITHIN = 60.0


@pytest.fixture(scope="session")
def mongodb_uri() -> Iterator[str]:
    """MONGODB_URI when set, else one throwaway SecantusDB for the whole session."""
    if uri := os.environ.get("MONGODB_URI"):
        yield uri
        return
    with EmbeddedDatabase(":memory:") as server:
        yield server.uri


def is_change_feed(event: monitoring.CommandStartedEvent) -> bool:
    """The server's own change stream polls the database in the background; requests do not cause it."""
    command = event.command
    if event.command_name == "getMore":
        return bool(command.get("collection") == "$cmd.aggregate")
    pipeline = command.get("pipeline") or [{}]
    return event.command_name == "aggregate" and "$changeStream" in pipeline[0]


@dataclass
class CommandCounter(monitoring.CommandListener):
    """Counts the database commands sent, by name, while ``counting`` is on."""

    counting: bool = False
    names: list[str] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.counting and not is_change_feed(event):
            self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
def settings(mongodb_uri: str, tmp_path: Path) -> Settings:
    # The standing worker follows the database in the background: the tests of standings, the worklist
    # and experience value turn it on (``standing_settings``); the others derive what they need directly.
    return Settings(
        mongodb_uri=mongodb_uri,
        database_name=f"test_{uuid.uuid4().hex[:16]}",
        jwt_secret=TEST_SECRET,
        data_dir=tmp_path,
        standing_worker=False,
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[MongoDatabase]:
    """The test's own database, dropped afterwards.

    The drop waits for any transaction left open on it: bounded, so a test that leaves one fails instead of
    hanging the suite.
    """
    client = create_client(str(settings.mongodb_uri))
    try:
        yield client[settings.database_name]
        with pymongo.timeout(DROP_WITHIN):
            await client.drop_database(settings.database_name)
    finally:
        await client.close()


@pytest.fixture
async def repos(db: MongoDatabase) -> Repositories:
    """Repositories over the test database, with the indexes the server creates at start-up."""
    await ensure_schema(db)
    return Repositories.on(db)


@pytest.fixture
def uow(db: MongoDatabase) -> MongoUnitOfWork:
    """Transactions through the same client as ``db`` and ``repos`` (sessions belong to one client)."""
    return MongoUnitOfWork(db.client)


@pytest.fixture
def commands() -> CommandCounter:
    return CommandCounter()


@contextlib.asynccontextmanager
async def client_for(
    settings: Settings, *listeners: monitoring.CommandListener, schema: strawberry.Schema | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking in-process to an app built with ``settings``, its lifespan running."""
    app = create_app(settings, schema=schema, event_listeners=listeners)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def http(
    settings: Settings, commands: CommandCounter, db: MongoDatabase
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with its lifespan running.

    It comes after ``db``, so the app and its background work stop before the database is dropped.
    """
    async with client_for(settings, commands) as client:
        yield client


@pytest.fixture
def token(settings: Settings) -> Any:
    """Makes a signed token: ``token(role, sub=..., regions=[...])``."""

    def make(role: Role = Role.FRONTLINE, *, sub: str = "tester", regions: list[str] | None = None) -> str:
        if regions is None:
            regions = ["north", "south", "east", "west", "central"] if role.needs_regions else []
        return issue_dev_token(settings.token_settings(), role=role, subject=sub, regions=regions)

    return make


@dataclass
class GraphQLClient:
    """Posts GraphQL operations with a bearer token."""

    http: httpx.AsyncClient
    bearer: str | None

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.bearer}"} if self.bearer else {}
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def result(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The response body of an operation that ran, errors and all (for tests that expect errors)."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The response body of an operation that succeeded: any error fails the test."""
        body = await self.result(query, variables)
        assert "errors" not in body, body
        assert body.get("data") is not None, body
        return body


@pytest.fixture
def gql(http: httpx.AsyncClient, token: Any) -> GraphQLClient:
    """A GraphQL client authenticated as a frontline employee of every region."""
    return GraphQLClient(http, token(Role.FRONTLINE))


START_TIMEOUT = 20.0


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 in a background thread; yields its base URL."""
    with served(create_app(settings)) as url:
        yield url


async def open_websocket(url: str, bearer: str) -> Any:
    """A graphql-transport-ws connection to the server at ``url`` (http://), acknowledged for ``bearer``."""
    ws = await websockets.connect(
        url.replace("http", "ws", 1) + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {bearer}"}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


@contextlib.contextmanager
def served(app: Starlette) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a background thread, for the duration; its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
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
