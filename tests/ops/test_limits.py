"""Every limit refuses its operation before anything runs: a typed error, a 4xx status, no database call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auth.principal import Role
from domain.repositories import Repositories
from tests import factories as f
from tests.ops.conftest import RequestCommands

LIST = "{ customers(first: 100) { edges { node { id } } } }"

LIMITS = [
    pytest.param(
        {"max_depth": 3},
        {"query": "{ customers(first: 1) { edges { node { id } } } }"},
        "depth",
        400,
        id="depth",
    ),
    pytest.param(
        {"max_aliases": 2},
        {"query": "{ a: viewer { role } b: viewer { role } c: viewer { role } }"},
        "aliases",
        400,
        id="aliases",
    ),
    pytest.param({"max_tokens": 12}, {"query": LIST}, "tokens", 400, id="tokens"),
    pytest.param({"max_cost": 101}, {"query": LIST}, "cost", 400, id="cost"),
    pytest.param(
        {"max_batch_operations": 2}, [{"query": "{ viewer { role } }"}] * 3, "batch", 400, id="batch"
    ),
    pytest.param({"max_body_bytes": 1024}, {"query": LIST + " " * 2000}, "bodySize", 413, id="body-size"),
]


@pytest.mark.parametrize(("overrides", "payload", "limit", "status"), LIMITS)
async def test_each_limit_refuses_before_any_database_command(
    app_client: Callable[..., Any],
    request_commands: RequestCommands,
    bearer: dict[str, str],
    overrides: dict[str, int],
    payload: Any,
    limit: str,
    status: int,
) -> None:
    async with app_client(**overrides) as http:
        response = await http.post("/graphql", json=payload, headers=bearer)

    assert response.status_code == status
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["limit"] == limit
    assert "data" not in response.json()
    assert request_commands.of(response) == 0


async def test_a_query_within_the_limits_runs(
    app_client: Callable[..., Any], request_commands: RequestCommands, bearer: dict[str, str]
) -> None:
    async with app_client(max_depth=4, max_cost=102) as http:
        response = await http.post("/graphql", json={"query": LIST}, headers=bearer)
    assert response.status_code == 200
    assert response.json()["data"] == {"customers": {"edges": []}}
    assert request_commands.of(response) > 0


async def test_the_budget_per_principal_refuses_with_429_and_a_retry_time(
    app_client: Callable[..., Any],
    request_commands: RequestCommands,
    bearer: dict[str, str],
    repos: Repositories,
) -> None:
    owner = f.employee()
    await repos.employees.insert_many([owner])
    await repos.customers.insert_many([f.customer(owner_id=owner.id) for _ in range(10)])
    query = {"query": "{ customers(first: 10) { edges { node { owner { name } } } } }"}

    async with app_client(cost_budget_per_minute=30) as http:
        first = await http.post("/graphql", json=query, headers=bearer)
        second = await http.post("/graphql", json=query, headers=bearer)

    # 2 + 10 + 10 x (owner 1) = 22 requested and spent: 8 is left, less than the next request needs.
    assert first.status_code == 200
    assert first.json()["extensions"]["cost"] == {
        "requested": 22,
        "actual": 22,
        "maximum": 10_000,
        "remaining": 8,
        "budgetPerMinute": 30,
    }
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) >= 1
    [error] = second.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert request_commands.of(second) == 0


async def test_a_budget_is_per_principal(
    app_client: Callable[..., Any], token: Any, bearer: dict[str, str]
) -> None:
    other = {"Authorization": f"Bearer {token(Role.FRONTLINE, sub='someone-else')}"}
    query = {"query": "{ customers(first: 20) { edges { node { id } } } }"}
    async with app_client(cost_budget_per_minute=25) as http:
        assert (await http.post("/graphql", json=query, headers=bearer)).status_code == 200
        # The first caller spent only 2 of its 22 (no customers): the bucket is refilled with the rest.
        assert (await http.post("/graphql", json=query, headers=bearer)).status_code == 200
        assert (await http.post("/graphql", json=query, headers=other)).status_code == 200


@pytest.mark.parametrize(
    "variables",
    [
        pytest.param({"filter": {"$where": "sleep(1000)"}}, id="top-level-operator"),
        pytest.param({"filter": {"tags": [{"$gt": ""}]}}, id="nested-in-a-list"),
    ],
)
async def test_keys_beginning_with_a_dollar_are_refused_before_parsing(
    app_client: Callable[..., Any], request_commands: RequestCommands, bearer: dict[str, str], variables: Any
) -> None:
    query = "query($filter: CustomerFilter) { customers(first: 5, filter: $filter) { edges { cursor } } }"
    async with app_client() as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=bearer)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert "'$'" in error["message"]
    assert request_commands.of(response) == 0


async def test_an_oversized_body_is_refused_by_its_declared_length(
    app_client: Callable[..., Any], request_commands: RequestCommands, bearer: dict[str, str]
) -> None:
    async with app_client(max_body_bytes=2048) as http:
        response = await http.post(
            "/graphql",
            content=b'{"query": "' + b" " * 5000 + b'{ viewer { role } }"}',
            headers={**bearer, "Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "bodySize"}
    assert request_commands.of(response) == 0


async def test_fragments_reused_many_times_are_measured_once_each(
    app_client: Callable[..., Any], request_commands: RequestCommands, bearer: dict[str, str]
) -> None:
    # Each fragment spreads the previous one twice: opened everywhere, that is 2^40 fields.
    fragments = ["fragment F0 on Viewer { role }"]
    fragments += [f"fragment F{i} on Viewer {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 41)]
    query = "{ viewer { ...F40 } } " + " ".join(fragments)
    async with app_client() as http:
        response = await http.post("/graphql", json={"query": query}, headers=bearer)
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"role": "FRONTLINE"}}


async def test_fragments_that_explode_inside_a_connection_are_refused_as_too_complex(
    app_client: Callable[..., Any], request_commands: RequestCommands, bearer: dict[str, str]
) -> None:
    fragments = ["fragment C0 on CustomerConnection { pageInfo { hasNextPage } }"]
    fragments += [f"fragment C{i} on CustomerConnection {{ ...C{i - 1} ...C{i - 1} }}" for i in range(1, 41)]
    query = "{ customers(first: 1) { ...C40 } } " + " ".join(fragments)
    async with app_client() as http:
        response = await http.post("/graphql", json={"query": query}, headers=bearer)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "complexity"}
    assert request_commands.of(response) == 0
