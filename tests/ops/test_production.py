"""Production mode: no introspection, no suggestions, no GraphiQL; unexpected errors masked but logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from api.storage.client import MongoDatabase
from tests.ops.conftest import RequestCommands

PRODUCTION = {"environment": "production"}


async def test_introspection_is_off_in_production_and_on_in_development(
    app_client: Callable[..., Any], request_commands: RequestCommands, bearer: dict[str, str]
) -> None:
    query = {"query": "{ __schema { queryType { name } } }"}
    async with app_client(**PRODUCTION) as http:
        refused = await http.post("/graphql", json=query, headers=bearer)
    async with app_client() as http:
        allowed = await http.post("/graphql", json=query, headers=bearer)

    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in error["message"]
    assert request_commands.of(refused) == 0
    assert allowed.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_can_be_enabled_in_production(
    app_client: Callable[..., Any], bearer: dict[str, str]
) -> None:
    async with app_client(**PRODUCTION, introspection=True) as http:
        response = await http.post(
            "/graphql", json={"query": '{ __type(name: "Viewer") { name } }'}, headers=bearer
        )
    assert response.json()["data"] == {"__type": {"name": "Viewer"}}


@pytest.mark.parametrize(("overrides", "suggested"), [({}, True), (PRODUCTION, False)])
async def test_field_suggestions_only_outside_production(
    app_client: Callable[..., Any], bearer: dict[str, str], overrides: dict[str, str], suggested: bool
) -> None:
    async with app_client(**overrides) as http:
        response = await http.post("/graphql", json={"query": "{ viewer { rol } }"}, headers=bearer)
    [error] = response.json()["errors"]
    assert "Cannot query field 'rol'" in error["message"]
    assert ("Did you mean" in error["message"]) is suggested


async def test_graphiql_is_not_served_in_production(app_client: Callable[..., Any]) -> None:
    async with app_client(**PRODUCTION) as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 401
    assert "graphiql" not in page.text.lower()


async def test_an_unexpected_error_is_masked_with_the_request_id_and_logged_in_full(
    app_client: Callable[..., Any],
    bearer: dict[str, str],
    db: MongoDatabase,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A stored document the code cannot read: the kind of bug that must not leak to clients.
    await db["customers"].insert_one({"_id": "0" * 24, "sortName": "a", "region": "north"})
    query = {"query": "{ customers(first: 5) { edges { node { displayName } } } }"}
    with caplog.at_level(logging.ERROR, logger="customer360.errors"):
        async with app_client(**PRODUCTION) as http:
            response = await http.post("/graphql", json=query, headers=bearer)

    request_id = response.headers["x-request-id"]
    [error] = response.json()["errors"]
    assert error["message"] == "internal error"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": request_id}
    assert "givenName" not in response.text
    [record] = [r for r in caplog.records if r.name == "customer360.errors"]
    assert getattr(record, "request_id", None) == request_id
    assert record.exc_info is not None
    assert "givenName" in caplog.text
