"""graphql-transport-ws messages are JSON in text frames: the protocol allows no other kind."""

from __future__ import annotations

import json
from typing import Any

import websockets

from auth.principal import Role
from tests.clients.conftest import Served
from tests.clients.documents import VIEWER


async def test_every_message_the_server_sends_is_a_text_frame(development: Served, token: Any) -> None:
    async with websockets.connect(development.ws, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        sent = [
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}},
            {"type": "ping"},
            {"id": "1", "type": "subscribe", "payload": {"query": VIEWER}},
            {"id": "2", "type": "subscribe", "payload": {"query": "{ viewer { nope } }"}},
        ]
        for message in sent:
            await ws.send(json.dumps(message))
        frames = [await ws.recv() for _ in range(5)]

    assert [type(frame) for frame in frames] == [str] * 5
    received = sorted((m.get("id", ""), m["type"]) for m in map(json.loads, frames))
    assert received == [
        ("", "connection_ack"),
        ("", "pong"),
        ("1", "complete"),
        ("1", "next"),
        ("2", "error"),
    ]
