"""SIGTERM under load: the server stops accepting, finishes every request it accepted, closes WebSockets.

One request is held open across the signal on purpose: its headers go out with ``Expect: 100-continue``, the
server's ``100 Continue`` shows the application is reading its body, and the body follows only once the
server refuses new connections. Requests of the load merely happen to be in flight, or not, at the signal.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from api.settings import Settings
from api.storage.client import create_client
from api.storage.embedded import EmbeddedDatabase, free_port
from auth.principal import Role
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.api.test_websocket_held_operations import until_closed
from tests.conftest import TEST_SECRET, open_websocket
from tests.ops.faults import Proxy
from tests.ops.load import Load, wait_until

QUERY = """{ customers(first: 40) { edges { node {
  displayName emails transactions(first: 5) { totalCount edges { node { amount { amount } } } }
} } } }"""


def serve(
    settings: Settings, port: int, log: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``customer360 serve`` on ``port`` against the test's database, its JSON logs going to ``log``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER360_")}
    env |= {
        "MONGODB_URI": str(settings.mongodb_uri),
        "CUSTOMER360_DATABASE_NAME": settings.database_name,
        "CUSTOMER360_JWT_SECRET": TEST_SECRET,
        "CUSTOMER360_GRAPHIQL": "false",
        "CUSTOMER360_DATA_DIR": str(log.parent),
        **(extra_env or {}),
    }
    with log.open("wb") as sink:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("customer360")), "serve", "--port", str(port), "--no-demo"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )


def served(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def accepting(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


class HeldRequest:
    """A POST whose body the server is waiting for: sent with ``finish``, answered by ``answer``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> None:
        self.reader, self.writer, self.body = reader, writer, body

    @classmethod
    async def open(cls, port: int, bearer: str, query: str) -> HeldRequest:
        body = orjson.dumps({"query": query})
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {bearer}\r\nContent-Length: {len(body)}\r\n".encode()
            + b"Expect: 100-continue\r\n\r\n"
        )
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        return cls(reader, writer, body)

    async def answer(self) -> tuple[int, Any]:
        """Sends the body and reads the answer to the end (the server closes the connection as it stops)."""
        self.writer.write(self.body)
        await self.writer.drain()
        raw = await asyncio.wait_for(self.reader.read(), timeout=60)
        self.writer.close()
        head, _, content = raw.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), orjson.loads(content)


async def test_sigterm_finishes_every_accepted_request_and_closes_websockets_with_1012(
    settings: Settings, repos: Repositories, token: Any, tmp_path: Path
) -> None:
    customers = [f.customer() for _ in range(40)]
    await repos.customers.insert_many(customers)
    for customer in customers:
        await repos.transactions.insert_many([f.transaction(customer) for _ in range(3)])
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    process = serve(settings, port, log)
    load = Load(f"{url}/graphql", {"query": QUERY}, {"Authorization": f"Bearer {token(Role.FRONTLINE)}"})
    try:
        wait_until(lambda: served(url), deadline=time.monotonic() + 30, message="serve did not start")
        ws = await open_websocket(url, token(Role.FRONTLINE))
        load.start()
        wait_until(lambda: load.done() >= 20, deadline=time.monotonic() + 60, message="the load did not run")
        held = await HeldRequest.open(port, token(Role.FRONTLINE), QUERY)

        process.send_signal(signal.SIGTERM)
        load.stop()
        await asyncio.to_thread(
            wait_until,
            lambda: not accepting(port),
            deadline=time.monotonic() + 30,
            message="the server still accepts connections after SIGTERM",
        )
        held_status, held_body = await held.answer()
        closed = await asyncio.wait_for(ws.wait_closed(), timeout=30)
        assert closed is None
        code = await asyncio.to_thread(process.wait, 60)
    finally:
        load.stop()
        if process.poll() is None:
            process.kill()
            process.wait()

    assert code == 0
    assert ws.close_code == 1012
    served_ids = {
        line["requestId"]: line["status"]
        for line in map(orjson.loads, log.read_bytes().splitlines())
        if line.get("logger") == "customer360.access"
    }
    answered = [s for s in load.shots if s.status is not None]
    refused = [s for s in load.shots if s.status is None]
    # Every request the server took was answered in full; the others never reached it.
    assert all(s.status == 200 and "errors" not in (s.body or {}) for s in answered), [
        (s.status, s.body) for s in answered if s.status != 200
    ][:3]
    assert all(served_ids.get(s.request_id) == 200 for s in answered)
    assert not [s for s in refused if s.request_id in served_ids]
    # The request held open across the signal was finished too.
    assert held_status == 200, held_body
    assert "errors" not in held_body
    assert len(held_body["data"]["customers"]["edges"]) == 40
    assert not served(url), "the server still answers after exiting"


async def test_sigterm_answers_the_query_a_websocket_runs_then_closes_it_with_1012(
    settings: Settings, token: Any, tmp_path: Path
) -> None:
    """A query held in flight by a silent database as SIGTERM comes is answered; the socket's subscription
    ends; only then is the socket closed, with 1012."""
    with EmbeddedDatabase(tmp_path / "db") as database, Proxy(database.port) as proxy:
        client = create_client(database.uri)
        customer = f.customer(region="north")
        await Repositories.on(client[settings.database_name]).customers.insert_many([customer])
        await client.close()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        through_proxy = settings.model_copy(update={"mongodb_uri": proxy.uri})
        # The silence must not be declared an outage meanwhile: the query would answer UNAVAILABLE.
        process = serve(
            through_proxy, port, tmp_path / "server.log", {"CUSTOMER360_DATABASE_PROBE_TIMEOUT_SECONDS": "60"}
        )
        try:
            wait_until(lambda: served(url), deadline=time.monotonic() + 30, message="serve did not start")
            ws = await open_websocket(url, token(Role.FRONTLINE, regions=["north"]))
            subscription = {"query": "subscription { alertRaised { id } }"}
            await ws.send(json.dumps({"id": "alerts", "type": "subscribe", "payload": subscription}))
            query = "query One($id: ID!) { customer(id: $id) { displayName } }"
            variables = {"id": encode_global_id("Customer", customer.id)}
            with proxy.silent():
                payload = {"query": query, "variables": variables}
                await ws.send(json.dumps({"id": "held", "type": "subscribe", "payload": payload}))
                process.send_signal(signal.SIGTERM)
                await asyncio.to_thread(
                    wait_until,
                    lambda: not accepting(port),
                    deadline=time.monotonic() + 30,
                    message="the server still accepts connections after SIGTERM",
                )
            received, _ = await until_closed(ws)
            code = await asyncio.to_thread(process.wait, 60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert received == [
        {
            "id": "held",
            "type": "next",
            "payload": {"data": {"customer": {"displayName": customer.display_name}}},
        },
        {"id": "held", "type": "complete"},
    ]
    assert ws.close_code == 1012
    assert code == 0
