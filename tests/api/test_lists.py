"""Managed lists through the endpoint: every role reads them, managers change them, intake keeps to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.storage.client import MongoDatabase
from auth.principal import Role
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient

LIST = """
query($kind: ListKind!) {
  managedList(kind: $kind) { kind version entries { code label active parent } }
}
"""
SAVE = """
mutation($input: ListEntryInput!) {
  saveListEntry(input: $input) {
    __typename
    ... on ListEntrySaved { list { version entries { code label active updatedBy updatedAt } } }
    ... on Error { code message }
    ... on ValidationError { fields { field code } }
  }
}
"""
SUBMIT = """
mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) {
    __typename
    ... on FeedbackSubmitted { feedback { items { dimension } } }
    ... on ValidationError { code fields { field code } }
  }
}
"""
BATCH = """
mutation($items: [SubmitFeedbackInput!]!) {
  submitFeedbackBatch(items: $items) { index status result { __typename ... on Error { code } } }
}
"""
OPEN_CASE = """
mutation($input: OpenCaseInput!) {
  openCase(input: $input) {
    __typename
    ... on CaseSaved { case { id category version } alert { id } }
    ... on ValidationError { code fields { field code } }
  }
}
"""
UPDATE_CASE = """
mutation($input: UpdateCaseInput!) {
  updateCase(input: $input) {
    __typename
    ... on CaseSaved { case { category version } }
    ... on ValidationError { fields { field code } }
  }
}
"""


def entry(**overrides: Any) -> dict[str, Any]:
    base = {
        "kind": "CASE_CATEGORY",
        "code": "loyalty",
        "label": "Loyalty",
        "active": True,
        "expectedVersion": 1,
    }
    return {**base, **overrides}


def feedback(key: str, *dimensions: str) -> dict[str, Any]:
    return {
        "idempotencyKey": key,
        "channel": "APP",
        "touchpoint": "DELIVERY",
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
        "nps": 9,
        "items": [{"dimension": d, "expectation": 5, "perception": 6} for d in dimensions],
    }


@pytest.fixture
def manager(http: httpx.AsyncClient, token: Any) -> GraphQLClient:
    return GraphQLClient(http, token(Role.MANAGER, sub="manager-1", regions=["north"]))


@pytest.fixture
async def customer(repos: Repositories, http: httpx.AsyncClient, token: Any) -> GraphQLClient:
    me = f.customer()
    await repos.customers.insert_many([me])
    return GraphQLClient(http, token(Role.CUSTOMER, sub=me.id))


async def saved(client: GraphQLClient, **overrides: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await client.execute(SAVE, {"input": entry(**overrides)}))["data"][
        "saveListEntry"
    ]
    return result


async def test_the_server_starts_with_the_default_lists_stored(
    http: httpx.AsyncClient, token: Any, db: MongoDatabase
) -> None:
    stored = {d["_id"]: d async for d in db["lists"].find({})}
    assert {kind: d["version"] for kind, d in stored.items()} == {
        "SERVICE_DIMENSION": 1,
        "CASE_CATEGORY": 1,
        "ROOT_CAUSE": 1,
    }
    for role in Role:
        body = await GraphQLClient(http, token(role)).execute(LIST, {"kind": "CASE_CATEGORY"})
        categories = body["data"]["managedList"]
        assert (categories["kind"], categories["version"]) == ("CASE_CATEGORY", 1), role
        assert categories["entries"][2] == {
            "code": "product-quality",
            "label": "Product quality",
            "active": True,
            "parent": None,
        }


async def test_a_manager_adds_an_entry_and_a_stale_version_is_a_conflict(manager: GraphQLClient) -> None:
    result = await saved(manager)
    assert result["__typename"] == "ListEntrySaved"
    assert result["list"]["version"] == 2
    added = result["list"]["entries"][-1]
    assert added["code"] == "loyalty"
    assert added["updatedBy"] == "manager-1"
    assert added["updatedAt"] is not None

    stale = await saved(manager, code="gifts", label="Gifts")
    assert stale["__typename"] == "ConflictError"
    assert stale["code"] == "CONFLICT"
    assert "version 2, not 1" in stale["message"]


async def test_an_identical_retry_answers_the_same_list(manager: GraphQLClient) -> None:
    first = await saved(manager)
    retry = await saved(manager)
    assert retry == first


async def test_a_bad_entry_is_a_validation_error(manager: GraphQLClient) -> None:
    result = await saved(manager, code="Loyalty Club", label="")
    assert result["__typename"] == "ValidationError"
    assert result["fields"] == [{"field": "code", "code": "INVALID"}, {"field": "label", "code": "INVALID"}]
    assert (await manager.execute(LIST, {"kind": "CASE_CATEGORY"}))["data"]["managedList"]["version"] == 1


async def test_free_text_dimensions_are_refused_at_intake_and_nothing_is_written(
    customer: GraphQLClient, db: MongoDatabase
) -> None:
    body = await customer.execute(SUBMIT, {"input": feedback("k1", "speed", "Friendly staff")})
    assert body["data"]["submitFeedback"] == {
        "__typename": "ValidationError",
        "code": "VALIDATION",
        "fields": [{"field": "items.1.dimension", "code": "UNKNOWN"}],
    }
    assert await db["feedback"].count_documents({}) == 0
    assert await db["rollups"].count_documents({}) == 0

    listed = await customer.execute(SUBMIT, {"input": feedback("k2", "speed", "friendliness")})
    assert listed["data"]["submitFeedback"]["feedback"]["items"] == [
        {"dimension": "speed"},
        {"dimension": "friendliness"},
    ]


async def test_a_batch_refuses_only_its_items_with_free_text(
    customer: GraphQLClient, db: MongoDatabase
) -> None:
    items = [feedback("b0", "speed"), feedback("b1", "vibes"), feedback("b2", "value")]
    results = (await customer.execute(BATCH, {"items": items}))["data"]["submitFeedbackBatch"]
    assert [(r["status"], r["result"]["__typename"]) for r in results] == [
        ("ACCEPTED", "FeedbackSubmitted"),
        ("ERROR", "ValidationError"),
        ("ACCEPTED", "FeedbackSubmitted"),
    ]
    assert await db["feedback"].count_documents({}) == 2


async def test_a_retired_dimension_is_refused_from_then_on(
    manager: GraphQLClient, customer: GraphQLClient
) -> None:
    assert (await customer.execute(SUBMIT, {"input": feedback("r1", "clarity")}))["data"]["submitFeedback"][
        "__typename"
    ] == "FeedbackSubmitted"
    retired = await saved(manager, kind="SERVICE_DIMENSION", code="clarity", label="Clarity", active=False)
    assert retired["__typename"] == "ListEntrySaved"

    body = await customer.execute(SUBMIT, {"input": feedback("r2", "clarity")})
    assert body["data"]["submitFeedback"]["fields"] == [{"field": "items.0.dimension", "code": "UNKNOWN"}]
    listed = (await customer.execute(LIST, {"kind": "SERVICE_DIMENSION"}))["data"]["managedList"]["entries"]
    assert {"code": "clarity", "label": "Clarity", "active": False, "parent": None} in listed


async def test_cases_take_listed_categories_only(
    http: httpx.AsyncClient, token: Any, repos: Repositories, db: MongoDatabase
) -> None:
    someone = f.customer(region="north")
    await repos.customers.insert_many([someone])
    agent = GraphQLClient(http, token(Role.FRONTLINE, sub="agent-1", regions=["north"]))
    case = {
        "customerId": encode_global_id("Customer", someone.id),
        "kind": "COMPLAINT",
        "channel": "PHONE",
        "category": "late delivery",
        "severity": "HIGH",
        "subject": "Parcel lost",
    }

    refused = (await agent.execute(OPEN_CASE, {"input": case}))["data"]["openCase"]
    assert refused == {
        "__typename": "ValidationError",
        "code": "VALIDATION",
        "fields": [{"field": "category", "code": "UNKNOWN"}],
    }
    assert [await db[c].count_documents({}) for c in ("cases", "alerts")] == [0, 0]

    opened = (await agent.execute(OPEN_CASE, {"input": {**case, "category": "delivery"}}))["data"]["openCase"]
    assert opened["case"]["category"] == "delivery"
    assert opened["alert"] is not None

    change = {"id": opened["case"]["id"], "version": 1, "category": "Returns"}
    moved = (await agent.execute(UPDATE_CASE, {"input": change}))["data"]["updateCase"]
    assert moved == {"__typename": "ValidationError", "fields": [{"field": "category", "code": "UNKNOWN"}]}
    moved = (await agent.execute(UPDATE_CASE, {"input": {**change, "category": "returns"}}))["data"][
        "updateCase"
    ]
    assert moved == {"__typename": "CaseSaved", "case": {"category": "returns", "version": 2}}
