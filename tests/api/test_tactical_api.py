"""Standards over time and tactical alerts through the endpoint: typed results, versions, scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.settings import Settings
from api.storage.client import MongoUnitOfWork
from auth.principal import Role
from domain.alerts.models import AlertReason
from domain.alerts.rules import raise_alert
from domain.employees.models import EmployeeRole
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.standards.models import default_standard
from domain.tactical.service import check_windows
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient

STANDARD = """mutation($input: ServiceStandardInput!) { setServiceStandard(input: $input) {
  __typename ... on ServiceStandardSaved { standard { version window { windowDays npsAtLeast } } }
  ... on Error { code } ... on ValidationError { fields { field code } } } }"""
HISTORY = """{ serviceStandardHistory(region: "north", touchpoint: DELIVERY) {
  version by before { version window { npsAtLeast } } after { version window { npsAtLeast } } } }"""
PLAN = """mutation($id: ID!, $version: Int!, $due: DateTime!) {
  setAlertActionPlan(id: $id, version: $version, input: {text: "Retrain the couriers", dueAt: $due}) {
    __typename ... on AlertChanged { alert { version resolveDueAt actionPlan { text dueAt by } } }
    ... on Error { code } ... on ValidationError { fields { field } } } }"""
RESOLVE = """mutation($id: ID!, $version: Int!) {
  resolveAlert(id: $id, version: $version, input: {resolution: "Couriers retrained"}) {
    __typename ... on AlertChanged { alert { state reply { message } } }
    ... on ValidationError { fields { field } } } }"""
QUEUE = "{ alerts(first: 10) { edges { node { id kind version tactical { metric figure } } } } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests run the check themselves: the server's own sweep waits an hour after its first round."""
    return settings.model_copy(update={"escalation_sweep_seconds": 3600})


def standard_input(**changes: Any) -> dict[str, Any]:
    base = {
        "region": "north",
        "touchpoint": "DELIVERY",
        "npsAtMost": 3,
        "csatAtMost": 1,
        "satisfactionIndexBelow": 0.6,
        "acknowledgeWithinMinutes": 240,
        "resolveWithinMinutes": 2880,
        "targetCsat": 4.2,
        "targetNps": 30,
        "window": {"windowDays": 7, "minResponses": 1, "npsAtLeast": 0},
    }
    return {**base, **changes}


async def test_standards_are_versioned_with_typed_errors_and_idempotent_retries(
    http: httpx.AsyncClient, token: Any
) -> None:
    manager = GraphQLClient(http, token(Role.MANAGER, sub="boss", regions=["north"]))

    async def save(**changes: Any) -> dict[str, Any]:
        body = await manager.execute(STANDARD, {"input": standard_input(**changes)})
        result: dict[str, Any] = body["data"]["setServiceStandard"]
        return result

    invalid = await save(window={"windowDays": 91, "minResponses": 1})
    assert invalid["__typename"] == "ValidationError"
    assert invalid["fields"] == [
        {"field": "window.windowDays", "code": "OUT_OF_RANGE"},
        {"field": "window", "code": "REQUIRED"},
    ]
    first = await save(expectedVersion=0)
    assert first["standard"] == {"version": 1, "window": {"windowDays": 7, "npsAtLeast": 0.0}}
    assert (await save(expectedVersion=0)) == first  # the retry stores nothing
    assert (await save(expectedVersion=0, targetNps=10))["code"] == "CONFLICT"
    stricter = await save(expectedVersion=1, window={"windowDays": 7, "minResponses": 1, "npsAtLeast": 20})
    assert stricter["standard"]["version"] == 2
    refused = await manager.result(STANDARD, {"input": standard_input(region="south")})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    history = (await manager.execute(HISTORY))["data"]["serviceStandardHistory"]
    assert history == [
        {
            "version": 2,
            "by": "boss",
            "before": {"version": 1, "window": {"npsAtLeast": 0.0}},
            "after": {"version": 2, "window": {"npsAtLeast": 20.0}},
        },
        {"version": 1, "by": "boss", "before": None, "after": {"version": 1, "window": {"npsAtLeast": 0.0}}},
    ]


async def test_managers_plan_and_resolve_tactical_alerts_that_frontline_does_not_see(
    http: httpx.AsyncClient, token: Any, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    boss = f.employee(role=EmployeeRole.MANAGER, regions=("north",))
    await repos.employees.insert_many([boss])
    now = datetime.now(UTC)
    standard = replace(default_standard("north", Touchpoint.DELIVERY), updated_at=now - timedelta(days=1))
    manager = GraphQLClient(http, token(Role.MANAGER, sub=boss.id, regions=["north"]))
    await manager.execute(STANDARD, {"input": standard_input()})
    await f.store_feedback(repos, [f.feedback(None, occurred_at=now - timedelta(hours=1), nps=0)])
    operational = raise_alert(
        alert_id=f.next_id(),
        customer_id=None,
        region="north",
        standard=standard,
        reasons=(AlertReason.LOW_NPS,),
        assignee_id=None,
        now=now,
        by="test",
    )
    await repos.alerts.insert(operational)
    (raised,) = (await check_windows(repos, uow, now=now)).raised
    alert_id = encode_global_id("Alert", raised.id)

    queue = [e["node"] for e in (await manager.execute(QUEUE))["data"]["alerts"]["edges"]]
    assert {a["kind"] for a in queue} == {"OPERATIONAL", "TACTICAL"}
    assert [a["tactical"] for a in queue if a["kind"] == "TACTICAL"] == [{"metric": "NPS", "figure": -100.0}]
    frontline = GraphQLClient(http, token(Role.FRONTLINE, regions=["north"]))
    assert [e["node"]["kind"] for e in (await frontline.execute(QUEUE))["data"]["alerts"]["edges"]] == [
        "OPERATIONAL"
    ]

    async def plan(version: int, due: datetime, target: str = alert_id) -> dict[str, Any]:
        body = await manager.execute(PLAN, {"id": target, "version": version, "due": due.isoformat()})
        result: dict[str, Any] = body["data"]["setAlertActionPlan"]
        return result

    due = (now + timedelta(days=10)).replace(microsecond=0)
    assert (await plan(1, now - timedelta(days=1)))["fields"] == [{"field": "dueAt"}]
    assert (await plan(1, due, encode_global_id("Alert", operational.id)))["fields"] == [{"field": "id"}]
    assert (await plan(7, due))["code"] == "CONFLICT"
    planned = await plan(1, due)
    assert planned["alert"]["version"] == 2
    assert planned["alert"]["resolveDueAt"] == planned["alert"]["actionPlan"]["dueAt"]
    assert planned["alert"]["actionPlan"]["by"] == boss.id
    assert await plan(1, due) == planned  # a retry of the same plan changes nothing
    south = GraphQLClient(http, token(Role.MANAGER, sub="other", regions=["south"]))
    elsewhere = await south.execute(PLAN, {"id": alert_id, "version": 2, "due": due.isoformat()})
    assert elsewhere["data"]["setAlertActionPlan"]["code"] == "NOT_FOUND"

    resolved = await manager.execute(RESOLVE, {"id": alert_id, "version": 2})
    assert resolved["data"]["resolveAlert"] == {
        "__typename": "AlertChanged",
        "alert": {"state": "RESOLVED", "reply": None},
    }
    operational_id = encode_global_id("Alert", operational.id)
    unexplained = await manager.execute(RESOLVE, {"id": operational_id, "version": 1})
    assert unexplained["data"]["resolveAlert"] == {
        "__typename": "ValidationError",
        "fields": [{"field": "rootCause"}, {"field": "rootCauseNote"}],
    }
    unanswered = await manager.execute(
        RESOLVE.replace(
            '"Couriers retrained"', '"Couriers retrained", rootCause: "carrier-delay", rootCauseNote: "x"'
        ),
        {"id": operational_id, "version": 1},
    )
    assert unanswered["data"]["resolveAlert"] == {
        "__typename": "ValidationError",
        "fields": [{"field": "reply"}],
    }
