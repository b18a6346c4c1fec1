"""The closed loop through the endpoint: intake, batches, the customer's view, queues, standards."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.storage.client import MongoDatabase
from auth.principal import Role
from domain.employees.models import EmployeeRole
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient

SUBMIT = """
mutation Submit($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) {
    __typename
    ... on FeedbackSubmitted { feedback { id status nps } }
    ... on Error { code message }
    ... on ValidationError { fields { field code } }
  }
}
"""
BATCH = """
mutation Batch($items: [SubmitFeedbackInput!]!) {
  submitFeedbackBatch(items: $items) {
    index idempotencyKey status
    result { __typename ... on Error { code } ... on FeedbackSubmitted { feedback { id } } }
  }
}
"""
MY_FEEDBACK = "{ me { feedback(first: 5) { edges { node { id status reply { message channel } } } } } }"
QUEUE = """
query Queue($filter: AlertFilter) {
  alerts(first: 10, filter: $filter) { edges { node { id state dueAt version reasons assignee { name } } } }
}
"""
RESOLVE = """
mutation Resolve($id: ID!, $version: Int!) {
  resolveAlert(id: $id, version: $version,
               input: {resolution: "Refunded", reply: "Sorry, refunded.", replyChannel: "EMAIL",
                       rootCause: "carrier-delay", rootCauseNote: "The parcel sat at the depot"}) {
    __typename ... on AlertChanged { alert { state version } } ... on Error { code }
  }
}
"""


def feedback_input(key: str, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "idempotencyKey": key,
        "channel": "APP",
        "touchpoint": "DELIVERY",
        "occurredAt": (now - timedelta(minutes=30)).isoformat(),
        "nps": 1,
        "csat": 2,
        "comment": "Late again.",
    }
    return {**base, **overrides}


@pytest.fixture
async def north(repos: Repositories) -> Any:
    agent = f.employee(name="Nora North", regions=("north",))
    manager = f.employee(name="Max Manager", regions=("north",), role=EmployeeRole.MANAGER)
    customer = f.customer(region="north", owner_id=agent.id)
    await repos.employees.insert_many([agent, manager])
    await repos.customers.insert_many([customer])
    return customer, agent, manager


async def test_fifty_concurrent_submissions_with_one_key_store_one_feedback_and_one_alert(
    http: httpx.AsyncClient, token: Any, north: Any, db: MongoDatabase
) -> None:
    customer, _, _ = north
    client = GraphQLClient(http, token(Role.CUSTOMER, sub=customer.id))
    payload = {"input": feedback_input("offline-1")}
    replies = await asyncio.gather(*(client.execute(SUBMIT, payload) for _ in range(50)))
    # The data is identical; extensions carry each request's own cost accounting.
    assert all(r["data"] == replies[0]["data"] for r in replies)
    assert replies[0]["data"]["submitFeedback"]["__typename"] == "FeedbackSubmitted"
    assert await db["feedback"].count_documents({}) == 1
    assert await db["alerts"].count_documents({}) == 1


async def test_the_same_key_with_other_content_is_a_typed_conflict(
    http: httpx.AsyncClient, token: Any, north: Any
) -> None:
    customer, _, _ = north
    client = GraphQLClient(http, token(Role.CUSTOMER, sub=customer.id))
    await client.execute(SUBMIT, {"input": feedback_input("k")})
    body = await client.execute(SUBMIT, {"input": feedback_input("k", nps=10)})
    assert body["data"]["submitFeedback"] == {
        "__typename": "IdempotencyConflictError",
        "code": "IDEMPOTENCY_CONFLICT",
        "message": "this idempotency key was used for a different response",
    }


async def test_invalid_input_is_a_typed_validation_error_that_writes_nothing(
    http: httpx.AsyncClient, token: Any, north: Any, db: MongoDatabase
) -> None:
    customer, _, _ = north
    client = GraphQLClient(http, token(Role.CUSTOMER, sub=customer.id))
    body = await client.execute(SUBMIT, {"input": feedback_input("k", nps=12, csat=0)})
    result = body["data"]["submitFeedback"]
    assert result["__typename"] == "ValidationError"
    assert result["fields"] == [
        {"field": "nps", "code": "OUT_OF_RANGE"},
        {"field": "csat", "code": "OUT_OF_RANGE"},
    ]
    assert await db["feedback"].count_documents({}) == 0


async def test_a_batch_of_100_with_3_invalid_and_2_duplicates_accepts_95_in_order(
    http: httpx.AsyncClient, token: Any, north: Any, db: MongoDatabase
) -> None:
    customer, _, _ = north
    client = GraphQLClient(http, token(Role.CUSTOMER, sub=customer.id))
    invalid = {30: {"nps": 11}, 40: {"csat": 9}, 50: {"idempotencyKey": ""}}
    items = [{**feedback_input(f"item-{n}", nps=9, csat=5), **invalid.get(n, {})} for n in range(100)]
    # Two items were sent before (the app retries a batch that partly got through).
    await client.execute(SUBMIT, {"input": items[10]})
    await client.execute(SUBMIT, {"input": items[20]})
    results = (await client.execute(BATCH, {"items": items}))["data"]["submitFeedbackBatch"]
    assert [r["index"] for r in results] == list(range(100))
    statuses = {r["index"]: r["status"] for r in results}
    assert [i for i, s in statuses.items() if s == "ERROR"] == [30, 40, 50]
    assert [i for i, s in statuses.items() if s == "DUPLICATE"] == [10, 20]
    assert sum(s == "ACCEPTED" for s in statuses.values()) == 95
    assert results[30]["result"] == {"__typename": "ValidationError", "code": "VALIDATION"}
    assert await db["feedback"].count_documents({}) == 97


async def test_a_batch_over_100_items_is_refused(http: httpx.AsyncClient, token: Any, north: Any) -> None:
    customer, _, _ = north
    client = GraphQLClient(http, token(Role.CUSTOMER, sub=customer.id))
    body = await client.result(BATCH, {"items": [feedback_input(f"k{n}") for n in range(101)]})
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_the_customer_sees_its_feedback_heard_handled_and_answered(
    http: httpx.AsyncClient, token: Any, north: Any
) -> None:
    customer, agent, _ = north
    me = GraphQLClient(http, token(Role.CUSTOMER, sub=customer.id))
    staff = GraphQLClient(http, token(Role.FRONTLINE, sub=agent.id, regions=["north"]))
    await me.execute(SUBMIT, {"input": feedback_input("bad", nps=1)})
    await me.execute(SUBMIT, {"input": feedback_input("good", nps=10, csat=5)})
    statuses = {
        e["node"]["status"] for e in (await me.execute(MY_FEEDBACK))["data"]["me"]["feedback"]["edges"]
    }
    assert statuses == {"RECEIVED", "BEING_HANDLED"}

    [alert] = [e["node"] for e in (await staff.execute(QUEUE))["data"]["alerts"]["edges"]]
    assert alert["assignee"] == {"name": "Nora North"}
    resolved = await staff.execute(RESOLVE, {"id": alert["id"], "version": alert["version"]})
    assert resolved["data"]["resolveAlert"] == {
        "__typename": "AlertChanged",
        "alert": {"state": "RESOLVED", "version": 2},
    }

    edges = (await me.execute(MY_FEEDBACK))["data"]["me"]["feedback"]["edges"]
    answered = [e["node"] for e in edges if e["node"]["status"] == "RESOLVED"]
    assert answered[0]["reply"] == {"message": "Sorry, refunded.", "channel": "EMAIL"}


async def test_a_stale_version_is_a_typed_conflict(http: httpx.AsyncClient, token: Any, north: Any) -> None:
    customer, agent, _ = north
    await GraphQLClient(http, token(Role.CUSTOMER, sub=customer.id)).execute(
        SUBMIT, {"input": feedback_input("x")}
    )
    staff = GraphQLClient(http, token(Role.FRONTLINE, sub=agent.id, regions=["north"]))
    [alert] = [e["node"] for e in (await staff.execute(QUEUE))["data"]["alerts"]["edges"]]
    await staff.execute(RESOLVE, {"id": alert["id"], "version": alert["version"]})
    again = await staff.execute(RESOLVE, {"id": alert["id"], "version": alert["version"]})
    assert again["data"]["resolveAlert"] == {"__typename": "ConflictError", "code": "CONFLICT"}


async def test_queues_show_the_oldest_deadline_first_and_filter_overdue_and_mine(
    http: httpx.AsyncClient, token: Any, repos: Repositories, uow: Any
) -> None:
    from domain.alerts.models import AlertReason
    from domain.alerts.rules import raise_alert
    from domain.feedback.models import Touchpoint
    from domain.standards.models import default_standard

    now = datetime.now(UTC)
    mine, other = f.employee(regions=("north",)), f.employee(regions=("north",))
    await repos.employees.insert_many([mine, other])
    raised = []
    for hours_ago, assignee in ((1, mine), (10, other), (2, other)):
        alert = raise_alert(
            alert_id=f.next_id(),
            customer_id=None,
            region="north",
            standard=default_standard("north", Touchpoint.DELIVERY),
            reasons=(AlertReason.LOW_NPS,),
            assignee_id=assignee.id,
            now=now - timedelta(hours=hours_ago),
            by="test",
        )
        await repos.alerts.insert(alert)
        raised.append(encode_global_id("Alert", alert.id))
    client = GraphQLClient(http, token(Role.FRONTLINE, sub=mine.id, regions=["north"]))

    async def ids(**alert_filter: Any) -> list[str]:
        body = await client.execute(QUEUE, {"filter": alert_filter or None})
        return [e["node"]["id"] for e in body["data"]["alerts"]["edges"]]

    assert await ids() == [raised[1], raised[2], raised[0]]
    assert await ids(overdue=True) == [raised[1]]
    assert await ids(mine=True) == [raised[0]]
    south = GraphQLClient(http, token(Role.FRONTLINE, sub="someone", regions=["south"]))
    assert (await south.execute(QUEUE))["data"]["alerts"]["edges"] == []


async def test_managers_set_standards_of_their_regions_only_and_new_alerts_follow_them(
    http: httpx.AsyncClient, token: Any, north: Any
) -> None:
    customer, _, _ = north
    mutation = """mutation($input: ServiceStandardInput!) { setServiceStandard(input: $input) {
      __typename ... on ServiceStandardSaved { standard { region acknowledgeWithinMinutes isDefault } }
      ... on Error { code } } }"""
    standard = {
        "region": "north",
        "touchpoint": "DELIVERY",
        "npsAtMost": 6,
        "csatAtMost": 2,
        "satisfactionIndexBelow": 0.7,
        "acknowledgeWithinMinutes": 30,
        "resolveWithinMinutes": 600,
        "targetCsat": 4.5,
        "targetNps": 40,
    }
    manager = GraphQLClient(http, token(Role.MANAGER, regions=["north"]))
    saved = (await manager.execute(mutation, {"input": standard}))["data"]["setServiceStandard"]
    assert saved["standard"] == {"region": "north", "acknowledgeWithinMinutes": 30, "isDefault": False}
    refused = await manager.result(mutation, {"input": {**standard, "region": "south"}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    invalid = await manager.execute(mutation, {"input": {**standard, "resolveWithinMinutes": 5}})
    assert invalid["data"]["setServiceStandard"]["__typename"] == "ValidationError"

    me = GraphQLClient(http, token(Role.CUSTOMER, sub=customer.id))
    passive = await me.execute(SUBMIT, {"input": feedback_input("p", nps=6, csat=4)})
    assert passive["data"]["submitFeedback"]["__typename"] == "FeedbackSubmitted"
    frontline = GraphQLClient(http, token(Role.FRONTLINE, regions=["north"]))
    [alert] = [e["node"] for e in (await frontline.execute(QUEUE))["data"]["alerts"]["edges"]]
    assert alert["reasons"] == ["LOW_NPS"]


async def test_a_complaint_case_raises_an_alert_at_once(
    http: httpx.AsyncClient, token: Any, north: Any
) -> None:
    customer, agent, _ = north
    staff = GraphQLClient(http, token(Role.FRONTLINE, sub=agent.id, regions=["north"]))
    mutation = """mutation($input: OpenCaseInput!) { openCase(input: $input) {
      __typename ... on CaseSaved { case { id status version } alert { reasons state } } } }"""
    opened = await staff.execute(
        mutation,
        {
            "input": {
                "customerId": encode_global_id("Customer", customer.id),
                "kind": "COMPLAINT",
                "channel": "MAIL",
                "category": "billing",
                "severity": "HIGH",
                "subject": "Charged twice",
            }
        },
    )
    assert "errors" not in opened, opened
    saved = opened["data"]["openCase"]
    assert saved["alert"] == {"reasons": ["COMPLAINT"], "state": "OPEN"}
    update = """mutation($input: UpdateCaseInput!) { updateCase(input: $input) {
      __typename ... on CaseSaved { case { status history { status } } } ... on Error { code } } }"""
    moved = await staff.execute(
        update,
        {
            "input": {
                "id": saved["case"]["id"],
                "version": 1,
                "status": "RESOLVED",
                "resolution": "Refunded",
                "customerNotifiedBy": "EMAIL",
                "rootCause": "wrong-charge",
                "rootCauseNote": "The card was charged twice by the payment provider",
            }
        },
    )
    assert moved["data"]["updateCase"]["case"]["history"] == [{"status": "OPEN"}, {"status": "RESOLVED"}]
