"""The compiled executor answers exactly like the stock one: same bytes, same errors, same audit trail.

Every document runs for every role through two apps on the same database, one per executor; the policy
tests' own documents are among them, so masks, hidden fields, denials and audit are compared on each path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from api.settings import Settings
from auth.principal import Role
from domain.repositories import Repositories
from resolvers.schema import Customer360Schema, build_schema
from tests.api import test_node_and_timeline, test_policy_matrix
from tests.api.world import World, build_world
from tests.conftest import client_for

WHOLE_CUSTOMER = """
query Whole($id: ID!) {
  customer(id: $id) {
    __typename id givenName familyName displayName emails phones birthDate birthYear
    address { street city postalCode country }
    externalIds { system id } segment tier region status tags createdAt updatedAt
    lifetimeValue { amount amountMinor currency } consent { email sms phone marketing }
    owner { id name email role regions team }
    transactions(first: 5) {
      totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id amount { amount } channel touchpoint occurredAt
        items { sku name quantity unitPrice { amount currency } } customer { id displayName } } }
    }
    interactions(first: 5) { totalCount edges { node { id kind direction channel summary occurredAt
      nextStep followUpOn employee { name } } } }
    cases(first: 5) { totalCount edges { node { id kind channel category severity status subject openedAt
      dueAt resolution history { status at note } customerNotified { at channel } assignee { name } } } }
    feedback(first: 5) { totalCount edges { node { id channel touchpoint occurredAt receivedAt nps csat
      effort satisfactionIndex comment items { dimension expectation perception gap }
      customer { emails } } } }
    opportunities(first: 5) { totalCount edges { node { id title stage amount { amount } probability
      expectedCloseOn openedAt owner { name } } } }
    timeline(first: 10) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { __typename ... on CustomerRecord { id customer { phones } }
        ... on Feedback { nps comment } ... on Case { subject } ... on Transaction { amount { currency } } } }
    }
    metrics { responses lastNps csatMean satisfactionIndex openCases lifetimeValue { amount }
      lastContactAt daysSinceLastContact }
  }
}
"""

NODES = """
query Nodes($id: ID!) {
  customers(first: 3) { nodes { id displayName emails owner { name } } }
  customer(id: $id) {
    transactions(first: 2) { totalCount nodes { id amount { amountMinor } } }
    feedback(first: 2) { nodes { comment } }
    timeline(first: 4) { nodes { __typename ... on Case { subject } ... on Alert { state } } }
  }
  alerts(first: 2) { nodes { id state customer { displayName } } }
  auditTrail(customerId: $id, first: 2) { nodes { role fields } }
}
"""

LISTS = """
query Lists($first: Int!, $withOwner: Boolean!) {
  all: customers(first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id displayName emails owner @include(if: $withOwner) { name }
      segment @skip(if: true)
      transactions(first: 2) { totalCount edges { node { amount { amountMinor } } } }
      metrics { openCases } } }
  }
  north: customers(first: 2, filter: {regions: ["north"]}) { edges { node { ...Names } } }
  search: customers(first: 2, search: "jane") { edges { node { ...Names } } }
}
fragment Names on Customer { __typename givenName familyName address { street } }
"""

ERRORS = """
query Errors($id: ID!) {
  good: customer(id: $id) { displayName }
  badCursor: customer(id: $id) { transactions(first: 1, after: "nope") { totalCount } }
  tooMany: customers(first: 1000) { edges { cursor } }
  badId: node(id: "not-an-id") { id }
}
"""

# A list of entries whose last two fields only managers may read: one denial per entry for the others.
MANAGED_LIST = """
{ managedList(kind: CASE_CATEGORY) { kind version entries { code label active parent updatedBy updatedAt } } }
"""

VIEWER_AND_TYPES = """
{ viewer { subject role regions operations types { name fields { name access } } }
  __type(name: "Customer") { name fields { name } } }
"""


def documents(world: World) -> list[tuple[str, dict[str, Any]]]:
    """Every document to compare, with its variables, from this file and from the policy tests."""
    north, south = world.north, world.south
    ids = {"id": north.customer_id, "tx": north.ids["Transaction"]}
    found: list[tuple[str, dict[str, Any]]] = [
        (WHOLE_CUSTOMER, {"id": north.customer_id}),
        (WHOLE_CUSTOMER, {"id": south.customer_id}),
        (LISTS, {"first": 5, "withOwner": True}),
        (LISTS, {"first": 3, "withOwner": False}),
        (ERRORS, {"id": north.customer_id}),
        (VIEWER_AND_TYPES, {}),
        (MANAGED_LIST, {}),
        (test_policy_matrix.PROFILE, {"id": north.customer_id}),
        (test_node_and_timeline.TIMELINE, {"id": north.customer_id, "first": 3, "kinds": None}),
        (
            test_node_and_timeline.TIMELINE,
            {"id": north.customer_id, "first": 3, "kinds": ["CASE", "FEEDBACK"]},
        ),
        *((query, ids) for query, _ in test_policy_matrix.OPERATIONS.values()),
        *((test_node_and_timeline.NODE, {"id": global_id}) for global_id in north.ids.values()),
        ("{ me { displayName emails feedback(first: 5) { edges { node { nps comment } } } } }", {}),
        ("{ me { id segment } }", {}),
        (NODES, {"id": north.customer_id}),
        ("query Back { customers(last: 2) { nodes { id displayName } pageInfo { hasPreviousPage } } }", {}),
    ]
    return found


@pytest.fixture(scope="module")
def schemas() -> dict[str, Customer360Schema]:
    return {"stock": build_schema(compiled=False), "compiled": build_schema(compiled=True)}


@pytest.fixture
async def clients(
    settings: Settings, schemas: dict[str, Customer360Schema]
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with (
        client_for(settings, schema=schemas["stock"]) as stock,
        client_for(settings, schema=schemas["compiled"]) as compiled,
    ):
        yield {"stock": stock, "compiled": compiled}


@pytest.fixture
async def world(repos: Repositories, token: Any) -> World:
    return await build_world(repos, token)


async def answer(client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any]) -> bytes:
    """The response's data and errors as bytes; the cost budget left differs with time, so it is dropped."""
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    return orjson.dumps(
        {"status": response.status_code, "data": body.get("data"), "errors": body.get("errors")}
    )


async def audit_rows(repos: Repositories, world: World) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for region in (world.north, world.south):
        page = await repos.audit.for_customer(region.customer.id, first=100, after=None)
        rows += [(e.subject, e.role, e.customer_id, e.fields, e.operation) for e in page.items]
    return sorted(rows)


@pytest.mark.parametrize("role", list(Role))
async def test_every_document_gives_the_same_answer_and_audit_on_both_executors(
    clients: dict[str, httpx.AsyncClient],
    world: World,
    repos: Repositories,
    role: Role,
    schemas: dict[str, Customer360Schema],
) -> None:
    executor: Any = schemas["compiled"].execution_context_class
    for query, variables in documents(world):
        answers = {}
        retries = executor.retries
        for name, client in clients.items():
            before = await audit_rows(repos, world)
            answers[name] = await answer(client, world.tokens[role], query, variables)
            written = await audit_rows(repos, world)
            for row in before:
                written.remove(row)
            answers[name] += orjson.dumps(written)
        assert answers["compiled"] == answers["stock"], query
        if b'"errors":null' in answers["stock"]:
            # An answer without errors comes from the compiled run itself, not from its stock retry.
            assert executor.retries == retries, query


async def test_the_compiled_executor_runs_queries_through_cached_plans(
    clients: dict[str, httpx.AsyncClient], world: World, schemas: dict[str, Customer360Schema]
) -> None:
    executor: Any = schemas["compiled"].execution_context_class
    body = await answer(clients["compiled"], world.tokens[Role.FRONTLINE], WHOLE_CUSTOMER, {"id": "x"})
    assert b"errors" in body
    plans = executor.plans.for_document(WHOLE_CUSTOMER)
    assert len(plans) == 1
    assert plans[0] is not None
