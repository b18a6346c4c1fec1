"""Typed inputs only, and a time limit on every request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLScalarType, get_named_type
from pymongo.errors import ExecutionTimeout

from api.storage.client import MongoUnitOfWork
from domain.customers.repository import CustomerRepository
from domain.repositories import Repositories
from domain.store import OutOfTime
from resolvers.schema import build_schema
from tests import factories as f
from tests.api.test_feedback_batch_limits import item

# Scalars an argument or input field may have: nothing that can carry an arbitrary JSON document.
TYPED_SCALARS = {"String", "Int", "Float", "Boolean", "ID", "DateTime", "Date", "Decimal"}


def test_no_argument_or_input_field_accepts_free_form_json() -> None:
    schema = build_schema()._schema
    loose: list[str] = []
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__"):
            continue
        if isinstance(graphql_type, GraphQLInputObjectType):
            for name, input_field in graphql_type.fields.items():
                named = get_named_type(input_field.type)
                if isinstance(named, GraphQLScalarType) and named.name not in TYPED_SCALARS:
                    loose.append(f"{type_name}.{name}: {named.name}")
        for name, output_field in getattr(graphql_type, "fields", {}).items():
            for argument_name, argument in getattr(output_field, "args", {}).items():
                named = get_named_type(argument.type)
                if isinstance(named, GraphQLScalarType) and named.name not in TYPED_SCALARS:
                    loose.append(f"{type_name}.{name}({argument_name}): {named.name}")
    assert loose == []


async def test_an_operation_past_the_time_limit_is_stopped_with_timeout(
    app_client: Callable[..., Any], bearer: dict[str, str], repos: Repositories
) -> None:
    customers = [f.customer() for _ in range(30)]
    await repos.customers.insert_many(customers)
    for customer in customers:
        await repos.transactions.insert_many([f.transaction(customer)])
    query = """{ customers(first: 30) { edges { node { displayName
      transactions(first: 5) { totalCount edges { node { amount { amount } } } }
      timeline(first: 5) { edges { cursor } } metrics { openCases } } } } }"""
    async with app_client(request_timeout_seconds=0.001) as http:
        response = await http.post("/graphql", json={"query": query}, headers=bearer)
    assert response.status_code == 504
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert "data" not in response.json()


async def test_a_database_command_past_the_drivers_deadline_is_a_timeout_not_an_internal_error(
    app_client: Callable[..., Any],
    bearer: dict[str, str],
    repos: Repositories,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Work that never awaits (a long computation) cannot be stopped by the request's own limit, which acts
    # at an await. The driver's deadline (the limit and a grace) still holds: past it, the driver refuses the
    # next command, and the request's time limit is what the caller is told of, not a fault of the server.
    await repos.customers.insert_many([f.customer()])

    async def past_the_deadline(self: CustomerRepository, *args: Any, **kwargs: Any) -> Any:
        raise ExecutionTimeout("operation would exceed time limit", 50, {"code": 50})

    monkeypatch.setattr(CustomerRepository, "list", past_the_deadline)
    query = "{ customers(first: 1) { edges { cursor } } }"
    async with app_client(compiled_pipelines=False) as http:
        response = await http.post("/graphql", json={"query": query}, headers=bearer)
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "TIMEOUT"}
    assert "time limit" in error["message"]


async def test_a_transaction_stopped_past_the_drivers_deadline_is_a_timeout_not_an_internal_error(
    app_client: Callable[..., Any],
    bearer: dict[str, str],
    repos: Repositories,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As above, for a mutation: the unit of work ends the transaction and says it ran out of time.
    customer = f.customer(region="north")
    await repos.customers.insert_many([customer])

    async def out_of_time(self: MongoUnitOfWork, work: Any) -> Any:
        raise OutOfTime("operation would exceed time limit", maybe_stored=False)

    mutation = "mutation($input: SubmitFeedbackInput!) { submitFeedback(input: $input) { __typename } }"
    submission = {k: v for k, v in item("deadline-1", customer).items() if k != "items"}
    async with app_client() as http:
        monkeypatch.setattr(MongoUnitOfWork, "run", out_of_time)  # once started: start-up writes too
        response = await http.post(
            "/graphql", json={"query": mutation, "variables": {"input": submission}}, headers=bearer
        )
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "TIMEOUT"}
    assert "time limit" in error["message"]
