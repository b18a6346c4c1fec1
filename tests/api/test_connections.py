"""Relay connections: the `nodes` shortcut gives what `edges { node }` gives, at the same cost."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from auth.principal import Role
from domain.repositories import Repositories
from domain.store import UnitOfWork
from tests.api.world import World, build_world
from tests.conftest import GraphQLClient

# Each list once through edges and once through nodes, with something that costs on every node.
LISTS = {
    "customers": ("customers(first: 5)", "id owner { name }"),
    "transactions": ("customer(id: $id) { transactions(first: 5)", "id amount { amount }"),
    "feedback": ("customer(id: $id) { feedback(first: 5)", "id comment"),
    "timeline": (
        "customer(id: $id) { timeline(first: 10)",
        "__typename ... on Case { subject assignee { name } }",
    ),
    "alerts": ("alerts(first: 5, filter: {states: [RESOLVED]})", "id customer { displayName }"),
    "auditTrail": ("auditTrail(customerId: $id, first: 5)", "role fields"),
    "worklist": ("worklist(first: 5)", "id owner { name } standing { action }"),
}


def document(name: str, shortcut: bool) -> str:
    field, selection = LISTS[name]
    closing = " }" if field.startswith("customer(") else ""
    items = f"nodes {{ {selection} }}" if shortcut else f"edges {{ node {{ {selection} }} }}"
    variables = "($id: ID!)" if "$id" in field else ""
    return f"query{variables} {{ {field} {{ {items} }}{closing} }}"


def items(data: Any, shortcut: bool) -> list[Any]:
    connection = next(iter(data.values()))
    if "edges" not in connection and "nodes" not in connection:
        connection = next(iter(connection.values()))
    return connection["nodes"] if shortcut else [e["node"] for e in connection["edges"]]


@pytest.fixture
async def world(repos: Repositories, token: Any, uow: UnitOfWork) -> World:
    return await build_world(repos, token, uow)


@pytest.mark.parametrize("name", list(LISTS))
async def test_nodes_are_the_edges_nodes_at_the_same_cost(
    http: httpx.AsyncClient, world: World, name: str
) -> None:
    role = Role.MANAGER if name == "auditTrail" else Role.FRONTLINE
    # A frontline read leaves an audit entry for the manager's trail.
    await GraphQLClient(http, world.tokens[Role.FRONTLINE]).execute(
        "query($id: ID!) { customer(id: $id) { emails } }", {"id": world.north.customer_id}
    )
    gql = GraphQLClient(http, world.tokens[role])
    answers = {}
    for shortcut in (False, True):
        variables = {"id": world.north.customer_id} if "$id" in LISTS[name][0] else {}
        response = await gql.post(document(name, shortcut), variables)
        body = response.json()
        assert "errors" not in body, body
        answers[shortcut] = (items(body["data"], shortcut), body["extensions"]["cost"])
    (by_edges, edges_cost), (by_nodes, nodes_cost) = answers[False], answers[True]
    assert by_nodes == by_edges
    assert by_nodes, "the world has something in every list"
    assert (nodes_cost["requested"], nodes_cost["actual"]) == (edges_cost["requested"], edges_cost["actual"])
