"""WebSocket connections (graphql-transport-ws) authenticate with the same token and get the same scope."""

from __future__ import annotations

import json
from typing import Any

import pytest
import websockets

from auth.principal import Role
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f

PROTOCOL = "graphql-transport-ws"


async def run_over_websocket(url: str, payload: dict[str, Any], query: str, variables: dict[str, Any]) -> Any:
    """Connects, initialises with ``payload``, runs one operation; returns its result or the close code."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            ack = json.loads(await ws.recv())
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        assert ack["type"] == "connection_ack"
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
        )
        message = json.loads(await ws.recv())
        assert message["type"] == "next", message
        return message["payload"]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="no-token"),
        pytest.param({"Authorization": "Bearer not-a-token"}, id="bad-token"),
        pytest.param({"Authorization": 42}, id="not-a-string"),
    ],
)
async def test_websocket_without_a_valid_token_is_closed_with_4403(
    live_server: str, payload: dict[str, Any]
) -> None:
    assert await run_over_websocket(live_server, payload, "{ viewer { role } }", {}) == 4403


async def test_the_legacy_subscriptions_transport_ws_protocol_is_refused_with_4406(live_server: str) -> None:
    # Its sockets would outlive their tokens: only graphql-transport-ws closes a socket whose token expired.
    ws_url = live_server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-ws"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol is None
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()  # closed at once, before any connection_init
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4406


async def test_websocket_gets_the_principal_and_row_scope_of_its_token(
    live_server: str, repos: Repositories, token: Any
) -> None:
    north, south = f.customer(region="north"), f.customer(region="south")
    await repos.customers.insert_many([north, south])
    bearer = token(Role.FRONTLINE, sub="agent-ws", regions=["north"])
    query = """query($n: ID!, $s: ID!) {
      viewer { subject role } n: customer(id: $n) { region } s: customer(id: $s) { region } }"""
    variables = {"n": encode_global_id("Customer", north.id), "s": encode_global_id("Customer", south.id)}

    for payload in ({"Authorization": f"Bearer {bearer}"}, {"token": bearer}):
        result = await run_over_websocket(live_server, payload, query, variables)
        assert result == {
            "data": {
                "viewer": {"subject": "agent-ws", "role": "FRONTLINE"},
                "n": {"region": "north"},
                "s": None,
            }
        }
