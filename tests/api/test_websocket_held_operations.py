"""Operations of a WebSocket held in flight by a database that falls silent (behind a proxy), answered as
over HTTP: past the time limit TIMEOUT, the database declared lost UNAVAILABLE, and the socket goes on.

When the token expires: its subscriptions end, a query already running is still answered, one sent after the
expiry is not run, and only then is the socket closed (4403): the client sends again only what was not done.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from api.http.app import create_app
from api.settings import Settings
from api.storage.client import create_client
from api.storage.embedded import EmbeddedDatabase
from auth.principal import Role
from auth.tokens import issue_dev_token
from domain.customers.models import Customer
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import open_websocket, served
from tests.ops.faults import Proxy

TTL = 6  # seconds: the socket is set up well within it, even on a loaded machine
DEADLINE = 60.0


@pytest.fixture
async def seeded(settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[EmbeddedDatabase, Customer]]:
    """A database of its own (the proxy goes in front of it) with a customer in north."""
    server = EmbeddedDatabase(tmp_path / "db")
    server.start()
    try:
        client = create_client(server.uri)
        customer = f.customer(region="north")
        await Repositories.on(client[settings.database_name]).customers.insert_many([customer])
        await client.close()
        yield server, customer
    finally:
        server.stop()


@pytest.fixture
def proxy(seeded: tuple[EmbeddedDatabase, Customer]) -> Iterator[Proxy]:
    with Proxy(seeded[0].port) as proxy:
        yield proxy


async def subscriptions(url: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        count: int = (await http.get("/healthz")).json()["subscriptions"]
        return count


async def until_closed(ws: Any) -> tuple[list[dict[str, Any]], Any]:
    """The messages received until the server closed the socket, and its close frame."""
    received = []
    try:
        while True:
            received.append(json.loads(await asyncio.wait_for(ws.recv(), DEADLINE)))
    except websockets.ConnectionClosed as closed:
        return received, closed.rcvd


async def test_a_query_running_as_the_token_expires_is_answered_before_the_socket_closes(
    settings: Settings, seeded: tuple[EmbeddedDatabase, Customer], proxy: Proxy
) -> None:
    _, customer = seeded
    strict = settings.model_copy(
        update={"mongodb_uri": proxy.uri, "jwt_leeway_seconds": 0, "database_probe_timeout_seconds": 60}
    )
    query = "query One($id: ID!) { customer(id: $id) { displayName } }"
    with served(create_app(strict)) as url:
        # Issued once the server is up: its start on a loaded machine must not eat into the token's life.
        bearer = issue_dev_token(
            strict.token_settings(), role=Role.FRONTLINE, subject="agent", regions=["north"], ttl=TTL
        )
        async with await open_websocket(url, bearer) as ws:
            accepted_until = time.time() + TTL  # at most: the token's exp is a whole second
            subscribe = {"query": "subscription { alertRaised { id } }"}
            await ws.send(json.dumps({"id": "alerts", "type": "subscribe", "payload": subscribe}))
            until = time.monotonic() + DEADLINE
            while await subscriptions(url) < 1:
                assert time.monotonic() < until, "the subscription was not counted"
                await asyncio.sleep(0.05)

            with proxy.silent():
                variables = {"id": encode_global_id("Customer", customer.id)}
                payload = {"query": query, "variables": variables}
                await ws.send(json.dumps({"id": "held", "type": "subscribe", "payload": payload}))
                # Past the expiry, and a little more for the server to act on it, the query still waits.
                await asyncio.sleep(max(0.0, accepted_until - time.time()) + 0.5)
                # Sent past the expiry: neither run nor answered (the client sends it again once reconnected),
                # though it would be answered at once, without the database.
                late = {"query": "{ viewer { subject } }"}
                await ws.send(json.dumps({"id": "late", "type": "subscribe", "payload": late}))
            received, close = await until_closed(ws)

    assert received == [
        {
            "id": "held",
            "type": "next",
            "payload": {"data": {"customer": {"displayName": customer.display_name}}},
        },
        {"id": "held", "type": "complete"},
    ]
    assert close is not None
    assert (close.code, close.reason) == (4403, "Token expired")


async def answered(ws: Any, operation_id: str) -> list[dict[str, Any]]:
    """The messages of one operation, up to its ``complete``."""
    messages = []
    while not messages or messages[-1]["type"] != "complete":
        message = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
        assert message["id"] == operation_id, message
        messages.append(message)
    return messages


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        pytest.param(
            {"request_timeout_seconds": 0.5, "database_probe_timeout_seconds": 60},
            "TIMEOUT",
            id="past-the-time-limit",
        ),
        pytest.param(
            {"request_timeout_seconds": 60, "database_probe_timeout_seconds": 0.5},
            "UNAVAILABLE",
            id="database-declared-lost",
        ),
    ],
)
async def test_a_query_held_by_a_silent_database_is_answered_with_the_code_http_gives(
    settings: Settings,
    token: Any,
    seeded: tuple[EmbeddedDatabase, Customer],
    proxy: Proxy,
    limits: dict[str, float],
    code: str,
) -> None:
    _, customer = seeded
    through_proxy = settings.model_copy(update={"mongodb_uri": proxy.uri, **limits})
    query = {
        "query": "query One($id: ID!) { customer(id: $id) { displayName } }",
        "variables": {"id": encode_global_id("Customer", customer.id)},
    }
    with served(create_app(through_proxy)) as url:
        async with await open_websocket(url, token(Role.FRONTLINE, regions=["north"])) as ws:
            with proxy.silent():
                await ws.send(json.dumps({"id": "held", "type": "subscribe", "payload": query}))
                held = await answered(ws, "held")
            # The socket goes on: once the database is back, the same query is answered.
            until = time.monotonic() + DEADLINE
            again: list[dict[str, Any]] = []
            while not again or "data" not in again[0]["payload"]:
                assert time.monotonic() < until, again
                await asyncio.sleep(0.1)
                await ws.send(json.dumps({"id": "again", "type": "subscribe", "payload": query}))
                again = await answered(ws, "again")

    [stopped, complete] = held
    assert stopped["type"] == "next"
    [error] = stopped["payload"]["errors"]
    assert error["extensions"] == {"code": code}
    assert "data" not in stopped["payload"]
    assert complete == {"id": "held", "type": "complete"}
    assert again[0]["payload"] == {"data": {"customer": {"displayName": customer.display_name}}}
