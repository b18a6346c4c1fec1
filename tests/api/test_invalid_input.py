"""Bad arguments get a clear, coded GraphQL error; never an internal error, never a write."""

from __future__ import annotations

import pytest

from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import CommandCounter, GraphQLClient

WRITE_COMMANDS = {"insert", "update", "delete", "findAndModify", "create", "drop", "createIndexes"}

CASES = [
    pytest.param('{ customer(id: "not-an-id") { id } }', "VALIDATION", "is not a valid id", id="garbage-id"),
    pytest.param(
        f'{{ customer(id: "{encode_global_id("Transaction", f.next_id())}") {{ id }} }}',
        "VALIDATION",
        "is not a Customer id",
        id="id-of-another-type",
    ),
    pytest.param(
        '{ node(id: "Q3VzdG9tZXI6eHl6") { id } }', "VALIDATION", "is not a valid id", id="bad-record-id"
    ),
    pytest.param(
        "{ customers(first: 0) { edges { cursor } } }", "VALIDATION", "between 1 and 100", id="first-0"
    ),
    pytest.param(
        "{ customers(first: 500) { edges { cursor } } }", "VALIDATION", "between 1 and 100", id="first-500"
    ),
    pytest.param(
        '{ customers(first: 5, after: "%%%") { edges { cursor } } }',
        "VALIDATION",
        "cursor",
        id="malformed-cursor",
    ),
    pytest.param(
        '{ customers(first: 5, after: "dGltZWxpbmUfeB94H3g") { edges { cursor } } }',
        "VALIDATION",
        "cursor",
        id="cursor-of-another-list",
    ),
    pytest.param(
        '{ customers(first: 5, search: "  ,;  ") { edges { cursor } } }',
        "VALIDATION",
        "search",
        id="empty-search",
    ),
    pytest.param(
        "{ customers(first: 5, filter: {segments: [ROYALTY]}) { edges { cursor } } }",
        "GRAPHQL_VALIDATION_FAILED",
        "ROYALTY",
        id="unknown-enum",
    ),
    pytest.param("{ customers { edges { cursor } } }", "VALIDATION", "first (or last)", id="first-missing"),
    pytest.param(
        "{ customers(first: 5, last: 5) { edges { cursor } } }", "VALIDATION", "not both", id="first-and-last"
    ),
    pytest.param(
        '{ customers(first: 5, before: "x") { edges { cursor } } }',
        "VALIDATION",
        "with last",
        id="before-first",
    ),
    pytest.param(
        "{ customers(last: 101) { edges { cursor } } }", "VALIDATION", "last must be between", id="last-101"
    ),
    pytest.param(
        '{ customers(last: 5, before: "%%%") { edges { cursor } } }',
        "VALIDATION",
        "cursor",
        id="malformed-before-cursor",
    ),
    pytest.param("{ customers(first: 5) { nope } }", "GRAPHQL_VALIDATION_FAILED", "nope", id="unknown-field"),
    pytest.param("{ customers(first: 5 ", "GRAPHQL_PARSE_FAILED", "Syntax Error", id="syntax-error"),
]


@pytest.mark.parametrize(("query", "code", "message"), CASES)
async def test_bad_input_gets_a_coded_error_and_writes_nothing(
    gql: GraphQLClient, commands: CommandCounter, query: str, code: str, message: str
) -> None:
    commands.counting = True
    response = await gql.post(query)
    body = response.json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    assert message in error["message"]
    assert not WRITE_COMMANDS & set(commands.names)


async def test_unknown_enum_in_variables_is_a_coded_error(gql: GraphQLClient) -> None:
    query = "query($s: [Segment!]) { customers(first: 5, filter: {segments: $s}) { edges { cursor } } }"
    body = (await gql.post(query, {"s": ["ROYALTY"]})).json()
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "ROYALTY" in error["message"]


async def test_nested_page_size_is_checked_too(gql: GraphQLClient, repos: Repositories) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    query = '{ customer(id: "%s") { transactions(first: 101) { totalCount } } }'
    body = (await gql.post(query % encode_global_id("Customer", customer.id))).json()
    [error] = body["errors"]
    assert error["extensions"] == {"code": "VALIDATION", "field": "first"}
    assert error["path"] == ["customer", "transactions"]


async def test_missing_customer_is_null_without_error(gql: GraphQLClient) -> None:
    body = await gql.execute(
        "query($id: ID!) { customer(id: $id) { id } }", {"id": encode_global_id("Customer", f.next_id())}
    )
    assert body["data"] == {"customer": None}
    assert "errors" not in body
