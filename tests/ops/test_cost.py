"""The cost in ``extensions.cost`` follows the formula: object 1, connection 2 + first times its nodes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from auth.principal import Role
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
CUSTOMER_360 = re.search(r"```graphql\n(query Customer360.*?)```", README, re.S)

LIST = "{ customers(first: 3) { edges { node { id owner { name } } } pageInfo { endCursor } } }"


async def cost_of(gql: GraphQLClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response: httpx.Response = await gql.post(query, variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    cost: dict[str, Any] = body["extensions"]["cost"]
    return cost


async def test_a_list_costs_two_plus_first_plus_first_times_each_node(
    gql: GraphQLClient, repos: Repositories
) -> None:
    owner = f.employee()
    await repos.employees.insert_many([owner])
    await repos.customers.insert_many([f.customer(owner_id=owner.id), f.customer(owner_id=None)])

    cost = await cost_of(gql, LIST)

    # Requested: 2 + 3 + 3 x (owner 1) = 8; returned: 2 customers, one with an owner: 2 + 2 + 1 = 5.
    assert (cost["requested"], cost["actual"]) == (8, 5)
    assert cost["maximum"] == 10_000
    # The bucket refills continuously (200,000 a minute), so a few milliseconds give some back.
    assert 200_000 - 5 <= cost["remaining"] <= 200_000


async def test_a_backward_page_costs_like_a_forward_one(gql: GraphQLClient, repos: Repositories) -> None:
    await repos.customers.insert_many([f.customer(), f.customer()])
    backward = await cost_of(gql, LIST.replace("first: 3", "last: 3"))
    forward = await cost_of(gql, LIST)
    assert (backward["requested"], backward["actual"]) == (forward["requested"], forward["actual"]) == (8, 4)


async def test_the_customer_360_query_of_the_readme(gql: GraphQLClient, repos: Repositories) -> None:
    staff = f.employee()
    customer = f.customer(owner_id=staff.id)
    await repos.employees.insert_many([staff])
    await repos.customers.insert_many([customer])
    await repos.transactions.insert_many([f.transaction(customer), f.transaction(customer)])
    await repos.interactions.insert_many([f.interaction(customer, employee_id=staff.id)])
    await repos.feedback.insert_many([f.feedback(customer)])
    assert CUSTOMER_360 is not None

    cost = await cost_of(gql, CUSTOMER_360.group(1), {"id": encode_global_id("Customer", customer.id)})

    requested = (
        1  # customer
        + 1  # owner
        + 1  # lifetimeValue
        + (2 + 10 + 10 * 1)  # transactions(first: 10), each with an amount
        + (2 + 10 + 10 * 1)  # interactions(first: 10), each with an employee
        + (2 + 10)  # cases(first: 10)
        + (2 + 10)  # feedback(first: 10)
        + (2 + 10 + 10 * 1)  # opportunities(first: 10), each with an amount
        + (2 + 20)  # timeline(first: 20)
        + 1  # metrics
    )
    actual = 1 + 1 + 1 + (2 + 2 + 2) + (2 + 1 + 1) + 2 + (2 + 1) + 2 + (2 + 4) + 1
    assert (cost["requested"], cost["actual"]) == (requested, actual) == (116, 27)


async def test_fragments_and_aliases_count_where_they_are_used(gql: GraphQLClient) -> None:
    query = """
      query { a: customers(first: 5) { ...Page } b: customers(first: 2) { ...Page } viewer { role } }
      fragment Page on CustomerConnection { edges { node { owner { name } lifetimeValue { amount } } } }
    """
    cost = await cost_of(gql, query)
    assert cost["requested"] == (2 + 5 + 5 * 2) + (2 + 2 + 2 * 2) + 1
    assert cost["actual"] == 2 + 2 + 1


async def test_a_variable_page_size_is_priced_with_its_value(gql: GraphQLClient) -> None:
    query = "query($n: Int!) { customers(first: $n) { edges { node { owner { name } } } } }"
    assert (await cost_of(gql, query, {"n": 7}))["requested"] == 2 + 7 + 7
    # Measures are kept per document and value of its page-size variables: each value is priced as its own.
    assert (await cost_of(gql, query, {"n": 3}))["requested"] == 2 + 3 + 3
    assert (await cost_of(gql, query, {"n": 7}))["requested"] == 2 + 7 + 7


async def test_a_rejected_operation_reports_its_cost(http: httpx.AsyncClient, token: Any) -> None:
    query = "{ customers(first: 100) { edges { node { transactions(first: 100) { totalCount } } } } }"
    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    )
    assert response.status_code == 400
    assert response.json()["extensions"]["cost"]["requested"] == 2 + 100 + 100 * (2 + 100)
    assert response.json()["extensions"]["cost"]["actual"] == 0
