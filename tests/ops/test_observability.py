"""Operators see what happens: health, readiness, Prometheus metrics, JSON logs with the request id."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pymongo.errors import OperationFailure

from api.http.logs import JsonFormatter
from api.http.observability import RequestIdFilter
from api.http.prometheus import Metrics, failure_name
from api.settings import Settings
from api.storage.client import MongoDatabase, create_client
from auth.principal import Role


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).status_code == 200
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


async def test_metrics_count_operations_by_outcome_commands_and_alerts_by_state(
    http: httpx.AsyncClient, token: Any, db: MongoDatabase
) -> None:
    await db["alerts"].insert_many([{"state": "OPEN"}, {"state": "OPEN"}, {"state": "RESOLVED"}])
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    await http.post("/graphql", json={"query": "{ viewer { role } }"}, headers=headers)
    await http.post(
        "/graphql", json={"query": "{ customers(first: 2) { edges { cursor } } }"}, headers=headers
    )
    await http.post(
        "/graphql", json={"query": "{ customers(first: 0) { edges { cursor } } }"}, headers=headers
    )

    response = await http.get("/metrics")

    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    operations = "customer360_graphql_operations_total"
    assert found[(operations, (("operation", "query viewer"), ("outcome", "ok")))] == 1
    assert found[(operations, (("operation", "query customers"), ("outcome", "ok")))] == 1
    assert found[(operations, (("operation", "query customers"), ("outcome", "VALIDATION")))] == 1
    assert found[("customer360_graphql_operation_seconds_count", (("operation", "query viewer"),))] == 1
    assert found[("customer360_db_commands_total", (("command", "find"), ("outcome", "ok")))] >= 1
    assert found[("customer360_active_subscriptions", ())] == 0
    assert found[("customer360_database_available", ())] == 1
    assert found[("customer360_alerts", (("state", "OPEN"),))] == 2
    assert found[("customer360_alerts", (("state", "RESOLVED"),))] == 1
    http_requests = "customer360_http_requests_total"
    assert found[(http_requests, (("method", "POST"), ("route", "/graphql"), ("status", "200")))] == 3


async def test_a_failed_command_counts_under_its_error_code_name(
    settings: Settings, db: MongoDatabase
) -> None:
    # Two transactions writing one document: the second one's update fails with a write conflict (and its
    # transaction would run again whole), which operators must be able to tell from other failures.
    metrics = Metrics()
    client = create_client(str(settings.mongodb_uri), event_listeners=[metrics.command_listener])
    collection = client[settings.database_name]["hot"]
    await collection.insert_one({"_id": "cell", "n": 0})
    try:
        async with client.start_session() as first, client.start_session() as second:
            await first.start_transaction()
            await second.start_transaction()
            await collection.update_one({"_id": "cell"}, {"$inc": {"n": 1}}, session=first)
            with pytest.raises(OperationFailure) as conflict:
                await collection.update_one({"_id": "cell"}, {"$inc": {"n": 1}}, session=second)
            await first.commit_transaction()
    finally:
        await client.close()

    found = samples((await metrics.scrape(None, available=True)).decode())
    commands = "customer360_db_commands_total"
    assert conflict.value.has_error_label("TransientTransactionError")
    assert found[(commands, (("command", "update"), ("outcome", "WriteConflict")))] == 1
    assert found[(commands, (("command", "update"), ("outcome", "ok")))] == 1
    assert found[(commands, (("command", "commitTransaction"), ("outcome", "ok")))] == 1


def test_a_failure_without_a_code_counts_under_the_drivers_error() -> None:
    assert failure_name({"errmsg": "connection closed", "errtype": "AutoReconnect"}) == "AutoReconnect"
    assert failure_name({"ok": 0, "code": 112, "codeName": "WriteConflict"}) == "WriteConflict"
    assert failure_name({"ok": 0, "code": 8000}) == "8000"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line written while the test runs, formatted as the server formats them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


async def test_every_log_line_of_a_request_is_json_with_its_request_id(
    http: httpx.AsyncClient, token: Any, log_lines: io.StringIO
) -> None:
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}", "X-Request-Id": "trace-42"}
    response = await http.post(
        "/graphql", json={"query": "{ customers(first: 0) { edges { cursor } } }"}, headers=headers
    )
    assert response.headers["x-request-id"] == "trace-42"
    assert response.json()["extensions"]["requestId"] == "trace-42"

    lines = [orjson.loads(line) for line in log_lines.getvalue().splitlines()]
    mine = [line for line in lines if line.get("requestId") == "trace-42"]
    assert {line["logger"] for line in mine} >= {"customer360.graphql", "customer360.access"}
    [operation] = [line for line in mine if line["logger"] == "customer360.graphql"]
    assert (operation["operation"], operation["outcome"], operation["status"]) == (
        "query customers",
        "VALIDATION",
        200,
    )
    [access] = [line for line in mine if line["logger"] == "customer360.access"]
    assert (access["method"], access["path"], access["status"]) == ("POST", "/graphql", 200)
    request_loggers = {"customer360.access", "customer360.graphql", "customer360.errors", "customer360.audit"}
    assert all("requestId" in line for line in lines if line["logger"] in request_loggers)
