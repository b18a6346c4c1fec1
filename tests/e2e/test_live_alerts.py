"""Live alerts across server processes: written through one, pushed by another over graphql-transport-ws."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from api.storage.client import MongoDatabase
from api.storage.embedded import free_port
from auth.principal import Role
from domain.repositories import Repositories
from tests import factories as f
from tests.conftest import TEST_SECRET, open_websocket
from tests.e2e.servers import Server

RAISED = "subscription { alertRaised { id reasons region assignee { name } } }"
SUBMIT = """mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { __typename ... on FeedbackSubmitted { feedback { status } } } }"""
DEADLINE = 60.0


@pytest.fixture
def two_servers(settings: Settings, db: MongoDatabase, tmp_path: Path) -> Any:
    """Two ``serve`` processes on the test's database. They hold ``db`` so that they stop before it is
    dropped: a ``dropDatabase`` of the embedded database under a server's writes hung for minutes in one
    run."""
    env = {
        "MONGODB_URI": str(settings.mongodb_uri),
        "CUSTOMER360_DATABASE_NAME": settings.database_name,
        "CUSTOMER360_JWT_SECRET": TEST_SECRET,
    }
    servers = [Server(tmp_path / name, free_port(), env, "--no-demo") for name in ("a", "b")]
    try:
        for server in servers:
            server.wait_for("GraphiQL at", time.monotonic() + DEADLINE)
        yield servers
    finally:
        for server in servers:
            server.stop()


async def subscribe(port: int, bearer: str, query: str) -> Any:
    ws = await open_websocket(f"http://127.0.0.1:{port}", bearer)
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return ws


async def wait_for_subscriptions(port: int, count: int) -> None:
    deadline = time.monotonic() + 10
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        while time.monotonic() < deadline:
            if (await http.get("/healthz")).json()["subscriptions"] >= count:
                return
            await asyncio.sleep(0.05)  # polling the server's own count, with a deadline
    pytest.fail(f"{count} subscriptions were not registered")


async def test_a_detractor_through_process_a_reaches_a_subscriber_on_process_b_within_a_second(
    two_servers: list[Server], repos: Repositories, token: Any
) -> None:
    a, b = two_servers
    agent = f.employee(name="Nora North", regions=("north",))
    customer = f.customer(region="north", owner_id=agent.id)
    await repos.employees.insert_many([agent])
    await repos.customers.insert_many([customer])

    north = await subscribe(b.port, token(Role.FRONTLINE, sub=agent.id, regions=["north"]), RAISED)
    south = await subscribe(b.port, token(Role.FRONTLINE, sub="agent-south", regions=["south"]), RAISED)
    try:
        await wait_for_subscriptions(b.port, 2)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{b.port}") as http:
            assert "customer360_active_subscriptions 2.0" in (await http.get("/metrics")).text
        feedback = {
            "idempotencyKey": "live-1",
            "channel": "APP",
            "touchpoint": "DELIVERY",
            "nps": 0,
            "occurredAt": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        }
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{a.port}") as http:
            reply = await http.post(
                "/graphql",
                json={"query": SUBMIT, "variables": {"input": feedback}},
                headers={"Authorization": f"Bearer {token(Role.CUSTOMER, sub=customer.id)}"},
            )
        replied_at = time.monotonic()
        assert reply.json()["data"]["submitFeedback"] == {
            "__typename": "FeedbackSubmitted",
            "feedback": {"status": "BEING_HANDLED"},
        }

        message = json.loads(await asyncio.wait_for(north.recv(), timeout=5))
        latency = time.monotonic() - replied_at
        assert message["type"] == "next"
        pushed = message["payload"]["data"]["alertRaised"]
        assert {k: pushed[k] for k in ("reasons", "region", "assignee")} == {
            "reasons": ["LOW_NPS"],
            "region": "north",
            "assignee": {"name": "Nora North"},
        }
        assert latency < 1.0, f"pushed {latency:.3f} s after the mutation replied"
        # The other region's subscriber gets nothing (checked for a bounded time).
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(south.recv(), timeout=1.0)
    finally:
        await north.close()
        await south.close()


@pytest.mark.parametrize(
    ("role", "query", "operation"),
    [
        (Role.BOARD, RAISED, "alertRaised"),
        (Role.CUSTOMER, RAISED, "alertRaised"),
        (Role.INTEGRATION, "subscription { alertUpdated { id } }", "alertUpdated"),
        (Role.FRONTLINE, "subscription { feedbackReceived { id } }", "feedbackReceived"),
    ],
)
async def test_roles_without_the_subscription_get_forbidden(
    two_servers: list[Server], token: Any, role: Role, query: str, operation: str
) -> None:
    ws = await subscribe(two_servers[0].port, token(role, sub="someone"), query)
    try:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
    finally:
        await ws.close()
    assert message["type"] in {"next", "error"}
    payload = message["payload"]
    errors = payload["errors"] if message["type"] == "next" else payload
    assert f"may not call {operation}" in errors[0]["message"]
