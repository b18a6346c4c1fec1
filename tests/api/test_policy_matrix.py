"""The policy matrix through the endpoint: operations, rows and fields per role."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from auth.principal import Role
from domain.repositories import Repositories
from domain.store import UnitOfWork
from tests.api.world import World, build_world
from tests.conftest import GraphQLClient

F, M, B, C, INT, BI = Role.FRONTLINE, Role.MANAGER, Role.BOARD, Role.CUSTOMER, Role.INTEGRATION, Role.BI

OPERATIONS: dict[str, tuple[str, set[Role]]] = {
    "viewer": ("{ viewer { role } }", {F, M, B, C, INT, BI}),
    "customer": ("query($id: ID!) { customer(id: $id) { id } }", {F, M}),
    "customers": ("{ customers(first: 5) { edges { node { id } } } }", {F, M}),
    "node": ("query($id: ID!) { node(id: $id) { id } }", {F, M}),
    "me": ("{ me { id } }", {C}),
    "customerByExternalId": ('{ customerByExternalId(system: "crm", id: "X") { id } }', {INT}),
    "auditTrail": (
        "query($id: ID!) { auditTrail(customerId: $id, first: 5) { edges { node { at } } } }",
        {M},
    ),
    "alerts": ("{ alerts(first: 5) { edges { node { id } } } }", {F, M}),
    "serviceStandards": ('{ serviceStandards(region: "north") { touchpoint } }', {M}),
    "serviceStandardHistory": (
        '{ serviceStandardHistory(region: "north", touchpoint: STORE_VISIT) { version } }',
        {M},
    ),
    "serviceStandardWindows": (
        """{ serviceStandardWindows(region: "north", touchpoint: STORE_VISIT, from: "2026-10-25",
           to: "2026-10-31") { day } }""",
        {M},
    ),
    "experience": ('{ experience(filter: {from: "2026-10-01", to: "2026-10-31"}) { nps } }', {M, B, BI}),
    "complaints": (
        '{ complaints(filter: {from: "2026-10-01", to: "2026-10-31"}) { complaints } }',
        {M, B, BI},
    ),
    "serviceStandardCompliance": (
        '{ serviceStandardCompliance(filter: {from: "2026-10-01", to: "2026-10-31"}) { alerts } }',
        {M, B, BI},
    ),
    "revenueAtRisk": ("{ revenueAtRisk { customers } }", {M, B, BI}),
    "recurringIssues": (
        '{ recurringIssues(filter: {from: "2026-10-01", to: "2026-10-31"}) { count } }',
        {M, B, BI},
    ),
    "digest": ('{ digest(date: "2026-10-30") { newAlertCount } }', {F, M}),
    "loopPerformance": (
        '{ loopPerformance(filter: {from: "2026-10-01", to: "2026-10-31"}) { alerts } }',
        {F, M, B, BI},
    ),
    "churn": ('{ churn(filter: {from: "2026-10-01", to: "2026-10-31"}) { churned } }', {M, B, BI}),
    "experienceValue": (
        '{ experienceValue(filter: {from: "2026-10-01", to: "2026-10-31"}) { category customers } }',
        {M, B, BI},
    ),
    "worklist": (
        "{ worklist(first: 5) { edges { node { id standing { priority action reasons { code text } } } } } }",
        {F, M},
    ),
    "submitFeedback": (
        """mutation($id: ID!) { submitFeedback(input: {idempotencyKey: "m1", channel: PHONE,
           touchpoint: DELIVERY, occurredAt: "2026-11-24T09:00:00+00:00", nps: 9, customerId: $id}) {
           __typename } }""",
        {C, F},
    ),
    "submitFeedbackBatch": ("mutation { submitFeedbackBatch(items: []) { index } }", {C, F}),
    "openCase": (
        """mutation($id: ID!) { openCase(input: {customerId: $id, kind: QUESTION, channel: WEB,
           category: "billing", severity: LOW, subject: "y"}) { __typename } }""",
        {F},
    ),
    "updateCase": ("mutation($id: ID!) { updateCase(input: {id: $id, version: 9}) { __typename } }", {F}),
    "acknowledgeAlert": (
        "mutation($id: ID!) { acknowledgeAlert(id: $id, version: 9) { __typename } }",
        {F, M},
    ),
    "resolveAlert": (
        """mutation($id: ID!) { resolveAlert(id: $id, version: 9,
           input: {resolution: "x", reply: "y", replyChannel: "EMAIL"}) { __typename } }""",
        {F, M},
    ),
    "setAlertActionPlan": (
        """mutation($id: ID!) { setAlertActionPlan(id: $id, version: 9,
           input: {text: "x", dueAt: "2030-01-01T00:00:00Z"}) { __typename } }""",
        {F, M},
    ),
    "reassignAlert": (
        "mutation($id: ID!) { reassignAlert(id: $id, version: 9, assigneeId: $id) { __typename } }",
        {M},
    ),
    "reopenAlert": ("mutation($id: ID!) { reopenAlert(id: $id, version: 9) { __typename } }", {F, M}),
    "managedList": ("{ managedList(kind: SERVICE_DIMENSION) { version } }", {F, M, B, C, INT, BI}),
    "saveListEntry": (
        """mutation { saveListEntry(input: {kind: CASE_CATEGORY, code: "billing", label: "Billing",
           active: true, expectedVersion: 0}) { __typename } }""",
        {M},
    ),
    "setServiceStandard": (
        """mutation { setServiceStandard(input: {region: "north", touchpoint: DELIVERY, npsAtMost: 3,
           csatAtMost: 1, satisfactionIndexBelow: 0.6, acknowledgeWithinMinutes: 60,
           resolveWithinMinutes: 600, targetCsat: 4.2, targetNps: 30}) { __typename } }""",
        {M},
    ),
}

PROFILE = """
query($id: ID!) { customer(id: $id) { ...Profile } }
fragment Profile on Customer {
  givenName emails phones birthDate birthYear address { street city postalCode country }
}
"""


@pytest.fixture
async def world(repos: Repositories, token: Any, uow: UnitOfWork) -> World:
    return await build_world(repos, token, uow)


def as_role(http: httpx.AsyncClient, world: World, role: Role) -> GraphQLClient:
    return GraphQLClient(http, world.tokens[role])


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_root_operations_per_role(
    http: httpx.AsyncClient, world: World, role: Role, operation: str
) -> None:
    query, allowed = OPERATIONS[operation]
    body = await as_role(http, world, role).result(query, {"id": world.north.customer_id})
    if role in allowed:
        assert "FORBIDDEN" not in codes(body)
    else:
        assert codes(body) == ["FORBIDDEN"]
        assert not any((body["data"] or {}).values())


async def test_frontline_sees_personal_data_in_full(http: httpx.AsyncClient, world: World) -> None:
    body = await as_role(http, world, F).execute(PROFILE, {"id": world.north.customer_id})
    profile = body["data"]["customer"]
    assert profile["emails"] == ["jane.north@example.com"]
    assert profile["phones"] == ["+44 20 7946 0123"]
    assert profile["birthDate"] == "1985-04-02"
    assert profile["address"]["street"] == "1 High Street"


async def test_manager_sees_personal_data_masked(http: httpx.AsyncClient, world: World) -> None:
    body = await as_role(http, world, M).execute(PROFILE, {"id": world.north.customer_id})
    assert "errors" not in body
    profile = body["data"]["customer"]
    assert profile["givenName"] == "Jane"
    assert profile["emails"] == ["j***@example.com"]
    assert profile["phones"] == ["+44 *** *** 123"]
    assert profile["birthDate"] is None
    assert profile["birthYear"] == 1985
    assert profile["address"] == {"street": None, "city": "London", "postalCode": "EC1A 1AA", "country": "GB"}


async def test_manager_masks_apply_on_every_path(http: httpx.AsyncClient, world: World) -> None:
    query = """
    query($id: ID!, $tx: ID!) {
      node(id: $id) { ... on Customer { emails } }
      customers(first: 5) { edges { node { emails } } }
      customer(id: $id) {
        timeline(first: 10) { edges { node { ... on Feedback { customer { emails } } } } }
        feedback(first: 1) { edges { node { customer { phones } comment } } }
      }
      tx: node(id: $tx) { ... on Transaction { customer { emails } } }
    }
    """
    variables = {"id": world.north.customer_id, "tx": world.north.ids["Transaction"]}
    body = await as_role(http, world, M).execute(query, variables)
    assert "errors" not in body
    data = body["data"]
    masked = ["j***@example.com"]
    assert data["node"]["emails"] == masked
    assert [e["node"]["emails"] for e in data["customers"]["edges"]] == [masked]
    timeline_customers = [e["node"]["customer"] for e in data["customer"]["timeline"]["edges"] if e["node"]]
    assert timeline_customers == [{"emails": masked}]
    assert data["customer"]["feedback"]["edges"][0]["node"] == {
        "customer": {"phones": ["+44 *** *** 123"]},
        "comment": "Too slow.",
    }
    assert data["tx"]["customer"]["emails"] == masked


async def test_customer_reads_its_own_profile_and_feedback_but_no_internal_fields(
    http: httpx.AsyncClient, world: World
) -> None:
    client = as_role(http, world, C)
    body = await client.execute(
        "{ me { displayName emails feedback(first: 5) { edges { node { nps comment } } } } }"
    )
    assert "errors" not in body
    assert body["data"]["me"]["emails"] == ["jane.north@example.com"]
    assert body["data"]["me"]["feedback"]["edges"] == [{"node": {"nps": 2, "comment": "Too slow."}}]
    for internal in (
        "owner { name }",
        "lifetimeValue { amount }",
        "tags",
        "segment",
        "transactions(first: 1) { totalCount }",
        "timeline(first: 1) { edges { cursor } }",
        "metrics { lastNps }",
        "cases(first: 1) { totalCount }",
    ):
        denied = await client.result(f"{{ me {{ id {internal} }} }}")
        assert codes(denied) == ["FORBIDDEN"], internal


async def test_integration_reconciles_by_external_id(http: httpx.AsyncClient, world: World) -> None:
    external = world.south.customer.external_ids[0]
    query = "query($s: String!, $id: String!) { customerByExternalId(system: $s, id: $id) { id emails } }"
    body = await as_role(http, world, INT).execute(query, {"s": external.system, "id": external.id})
    assert body["data"]["customerByExternalId"] == {
        "id": world.south.customer_id,
        "emails": ["jane.south@example.com"],
    }


async def test_board_gets_no_record_through_any_path(http: httpx.AsyncClient, world: World) -> None:
    client = as_role(http, world, B)
    for query in (
        "query($id: ID!) { customer(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { id } }",
        "{ customers(first: 1) { edges { node { id } } } }",
        "query($id: ID!) { customer(id: $id) { feedback(first: 1) { edges { node { comment } } } } }",
    ):
        body = await client.result(query, {"id": world.north.ids["Feedback"]})
        assert codes(body) == ["FORBIDDEN"]
        assert not any((body["data"] or {}).values())


class TestCrossRegion:
    """A north frontline employee or manager never reaches south records, whatever the path."""

    @pytest.mark.parametrize("role", [F, M])
    async def test_customer_of_another_region_looks_missing(
        self, http: httpx.AsyncClient, world: World, role: Role
    ) -> None:
        body = await as_role(http, world, role).execute(
            "query($id: ID!) { customer(id: $id) { id } }", {"id": world.south.customer_id}
        )
        assert body["data"] == {"customer": None}
        assert "errors" not in body

    @pytest.mark.parametrize("role", [F, M])
    async def test_records_of_another_region_are_never_returned_by_node(
        self, http: httpx.AsyncClient, world: World, role: Role
    ) -> None:
        client = as_role(http, world, role)
        for kind in ("Customer", "Transaction", "Interaction", "Case", "Feedback", "Opportunity"):
            body = await client.execute(
                "query($id: ID!) { node(id: $id) { id } }", {"id": world.south.ids[kind]}
            )
            assert body["data"] == {"node": None}, kind
            assert "errors" not in body, kind

    async def test_lists_search_and_filters_stay_in_region(
        self, http: httpx.AsyncClient, world: World
    ) -> None:
        client = as_role(http, world, F)
        query = """query($s: String, $f: CustomerFilter) {
          customers(first: 10, search: $s, filter: $f) { edges { node { familyName } } } }"""

        async def names(**variables: Any) -> list[str]:
            body = await client.execute(query, variables)
            return [e["node"]["familyName"] for e in body["data"]["customers"]["edges"]]

        assert await names() == ["Doe-north"]
        assert await names(s="doe") == ["Doe-north"]
        assert await names(s="jane.south@example.com") == []
        assert await names(f={"regions": ["south"]}) == []
        assert await names(f={"regions": ["north", "south"]}) == ["Doe-north"]

    async def test_cursor_from_a_wider_scope_does_not_widen_the_list(
        self, http: httpx.AsyncClient, world: World, token: Any
    ) -> None:
        everywhere = GraphQLClient(http, token(M, sub="manager-all", regions=["north", "south"]))
        query = """query($a: String) {
          customers(first: 1, after: $a) { pageInfo { endCursor } edges { node { familyName } } } }"""
        first = await everywhere.execute(query)
        assert first["data"]["customers"]["edges"][0]["node"]["familyName"] == "Doe-north"
        cursor = first["data"]["customers"]["pageInfo"]["endCursor"]
        assert (await everywhere.execute(query, {"a": cursor}))["data"]["customers"]["edges"][0]["node"][
            "familyName"
        ] == "Doe-south"
        north_only = await as_role(http, world, F).execute(query, {"a": cursor})
        assert north_only["data"]["customers"]["edges"] == []

    async def test_audit_trail_of_another_region_looks_missing(
        self, http: httpx.AsyncClient, world: World
    ) -> None:
        body = await as_role(http, world, M).result(
            OPERATIONS["auditTrail"][0], {"id": world.south.customer_id}
        )
        assert codes(body) == ["NOT_FOUND"]
