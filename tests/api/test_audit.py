"""Unmasked personal data in a response leaves one audit entry per customer, written in one batch."""

from __future__ import annotations

from typing import Any

import httpx

from api.storage.client import MongoDatabase
from auth.principal import Role
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import CommandCounter, GraphQLClient

LIST_WITH_PII = """
query AgentDesk { customers(first: 10) { edges { node { emails phones address { city } } } } }
"""
TRAIL = """
query($id: ID!) { auditTrail(customerId: $id, first: 10) {
  edges { node { subject role customerId fields operation requestId at } } } }
"""


async def test_frontline_pii_read_writes_one_entry_per_customer_in_one_batch(
    http: httpx.AsyncClient, repos: Repositories, db: MongoDatabase, token: Any, commands: CommandCounter
) -> None:
    customers = [f.customer(region="north") for _ in range(3)]
    await repos.customers.insert_many(customers)
    frontline = GraphQLClient(http, token(Role.FRONTLINE, sub="agent-7", regions=["north"]))

    commands.counting = True
    response = await http.post(
        "/graphql",
        json={"query": LIST_WITH_PII},
        headers={"Authorization": f"Bearer {frontline.bearer}", "X-Request-Id": "req-42"},
    )
    commands.counting = False

    assert response.status_code == 200
    assert commands.names.count("insert") == 1
    entries = await db["audit"].find({}, {"_id": 0, "at": 0}).sort("customerId").to_list()
    assert entries == [
        {
            "subject": "agent-7",
            "role": "frontline",
            "customerId": c.id,
            "fields": ["address", "emails", "phones"],
            "operation": "AgentDesk",
            "requestId": "req-42",
        }
        for c in sorted(customers, key=lambda c: c.id)
    ]


async def test_masked_manager_reads_leave_no_entry(
    http: httpx.AsyncClient, repos: Repositories, db: MongoDatabase, token: Any, commands: CommandCounter
) -> None:
    await repos.customers.insert_many([f.customer(region="north") for _ in range(3)])
    manager = GraphQLClient(http, token(Role.MANAGER, regions=["north"]))
    commands.counting = True
    body = await manager.execute(LIST_WITH_PII)
    commands.counting = False
    assert body["data"]["customers"]["edges"][0]["node"]["emails"][0].count("***") == 1
    assert "insert" not in commands.names
    assert await db["audit"].find_one({}) is None


async def test_reads_without_personal_data_leave_no_entry(
    http: httpx.AsyncClient, repos: Repositories, db: MongoDatabase, token: Any
) -> None:
    await repos.customers.insert_many([f.customer(region="north")])
    frontline = GraphQLClient(http, token(Role.FRONTLINE, regions=["north"]))
    body = await frontline.execute("{ customers(first: 5) { edges { node { segment tier region } } } }")
    assert [edge["node"]["region"] for edge in body["data"]["customers"]["edges"]] == ["north"]
    assert await db["audit"].find_one({}) is None


async def test_managers_read_the_audit_trail_of_customers_in_their_regions(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    customer = f.customer(region="north")
    await repos.customers.insert_many([customer])
    frontline = GraphQLClient(http, token(Role.FRONTLINE, sub="agent-7", regions=["north"]))
    await frontline.execute(LIST_WITH_PII)
    await frontline.execute(LIST_WITH_PII)

    manager = GraphQLClient(http, token(Role.MANAGER, regions=["north"]))
    global_id = encode_global_id("Customer", customer.id)
    trail = (await manager.execute(TRAIL, {"id": global_id}))["data"]["auditTrail"]["edges"]
    assert len(trail) == 2
    assert {e["node"]["subject"] for e in trail} == {"agent-7"}
    assert trail[0]["node"]["customerId"] == global_id
    assert trail[0]["node"]["at"] >= trail[1]["node"]["at"]

    other_region = GraphQLClient(http, token(Role.MANAGER, regions=["south"]))
    body = await other_region.result(TRAIL, {"id": global_id})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
