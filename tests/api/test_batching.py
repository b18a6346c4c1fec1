"""Nested lists are batched: the number of database commands does not grow with the page size.

On the loaders each batch is a command; with compiled pipelines (the default) a root field's whole selection
is one command, whatever it selects.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.settings import Settings
from auth.principal import Role
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from resolvers.schema import build_schema
from tests import factories as f
from tests.conftest import CommandCounter, GraphQLClient, client_for

NESTED = """
query Nested($first: Int!) {
  customers(first: $first) {
    edges { node {
      displayName owner { name }
      transactions(first: 3) { totalCount edges { node { amount { amount } } } }
      interactions(first: 3) { edges { node { summary employee { name } } } }
      cases(first: 3) { edges { node { subject assignee { name } } } }
      feedback(first: 3) { edges { node { nps customer { displayName } } } }
      opportunities(first: 3) { edges { node { title owner { name } } } }
      timeline(first: 5) { edges { node { __typename } } }
      metrics { lastNps openCases }
    } }
  }
}
"""


@pytest.fixture(params=[False, True], ids=["loaders", "pipelines"])
async def pipelines(request: pytest.FixtureRequest) -> bool:
    on: bool = request.param
    return on


@pytest.fixture
async def gql(
    settings: Settings, commands: CommandCounter, token: Any, pipelines: bool
) -> AsyncIterator[GraphQLClient]:
    """The app with compiled pipelines off (every read through the loaders) or on."""
    configured = settings.model_copy(update={"compiled_pipelines": pipelines})
    schema = build_schema(compiled=pipelines or settings.compiled_execution)
    async with client_for(configured, commands, schema=schema) as http:
        yield GraphQLClient(http, token(Role.FRONTLINE))


async def commands_for(gql: GraphQLClient, commands: CommandCounter, first: int) -> list[str]:
    commands.names.clear()
    commands.counting = True
    body = await gql.execute(NESTED, {"first": first})
    commands.counting = False
    assert "errors" not in body, body
    assert len(body["data"]["customers"]["edges"]) == first
    return sorted(commands.names)


async def test_customers_first_50_costs_the_same_commands_as_first_1(
    gql: GraphQLClient, repos: Repositories, commands: CommandCounter, pipelines: bool
) -> None:
    staff = f.employee()
    customers = [f.customer(owner_id=staff.id) for _ in range(60)]
    await repos.employees.insert_many([staff])
    await repos.customers.insert_many(customers)
    for c in customers:
        await repos.transactions.insert_many([f.transaction(c), f.transaction(c)])
        await repos.interactions.insert_many([f.interaction(c, employee_id=staff.id)])
        await repos.cases.insert_many([f.case(c, assignee_id=staff.id)])
        await repos.feedback.insert_many([f.feedback(c)])
        await repos.opportunities.insert_many([f.opportunity(c, owner_id=staff.id)])

    one = await commands_for(gql, commands, 1)
    fifty = await commands_for(gql, commands, 50)

    assert fifty == one
    if pipelines:
        # The whole selection in one aggregation, and the audit write.
        assert one == ["aggregate", "insert"]
        return
    # The customer page, two employee lookups (the owners, then the employees of the records shown), 5
    # record pages, 6 timeline pages (another page size, and alerts too), 1 count, 4 metrics commands and 1
    # audit write: 20, whatever the number of customers.
    assert len(one) == 20, one
    assert one.count("insert") == 1


async def test_the_commands_do_not_depend_on_which_employees_the_records_share(
    gql: GraphQLClient, repos: Repositories, commands: CommandCounter, pipelines: bool
) -> None:
    # The first customer's interaction is by its own owner, the others' by someone else: a cache shared
    # across waves would read no employee for the interactions of first: 1, and one for first: 50.
    owner, colleague = f.employee(), f.employee()
    customers = [f.customer(owner_id=owner.id) for _ in range(60)]
    await repos.employees.insert_many([owner, colleague])
    await repos.customers.insert_many(customers)
    for n, c in enumerate(customers):
        await repos.interactions.insert_many(
            [f.interaction(c, employee_id=owner.id if n == 0 else colleague.id)]
        )

    one = await commands_for(gql, commands, 1)
    fifty = await commands_for(gql, commands, 50)

    assert fifty == one
    if pipelines:
        assert one == ["aggregate", "insert"]
        return
    # One employee lookup per wave: the owners, then the interactions' employees (the customer page, and
    # the interactions, are aggregates).
    assert one.count("find") == 2, one


# Two root fields ask for the same customer's page of transactions, and one of them fails beside it.
SHARED_LOAD = """
query Shared($id: ID!) {
  customer(id: $id) {
    transactions(first: 2) { edges { cursor } }
    bad: transactions(first: 2, after: "not-a-cursor") { edges { cursor } }
  }
  customers(first: 1) { edges { node { transactions(first: 2) { edges { cursor } } } } }
}
"""


async def test_a_field_that_fails_does_not_fail_the_fields_sharing_its_loads(
    gql: GraphQLClient, repos: Repositories
) -> None:
    # graphql-core cancels what still runs beside a field that failed; the page load that field's sibling
    # waits for is the one the other root field waits for too, and must still answer it.
    customer = f.customer()
    await repos.customers.insert_many([customer])
    await repos.transactions.insert_many([f.transaction(customer), f.transaction(customer)])

    body = await gql.result(SHARED_LOAD, {"id": encode_global_id("Customer", customer.id)})

    assert body["data"]["customer"] is None
    assert [e["path"] for e in body["errors"]] == [["customer", "bad"]]
    [edge] = body["data"]["customers"]["edges"]
    assert len(edge["node"]["transactions"]["edges"]) == 2
