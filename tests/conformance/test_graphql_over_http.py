"""GraphQL over HTTP: graphql-http's server audit on a real socket, and the spec's rules we rely on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx

from auth.principal import Role


def test_the_graphql_http_server_audit_passes_without_warnings(
    live_server: str, token: Any, graphql_http_audit: Path
) -> None:
    done = subprocess.run(
        ["node", str(graphql_http_audit), f"{live_server}/graphql"],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "CUSTOMER360_TOKEN": token(Role.FRONTLINE)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    failing = [r for r in results if r["status"] != "ok"]
    assert failing == []
    assert len(results) >= 50


async def test_queries_run_over_get_and_mutations_are_refused_with_405(
    http: httpx.AsyncClient, token: Any
) -> None:
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    query = await http.get("/graphql", params={"query": "{ viewer { role } }"}, headers=headers)
    assert query.status_code == 200
    assert query.json()["data"] == {"viewer": {"role": "FRONTLINE"}}

    mutation = await http.get("/graphql", params={"query": "mutation { __typename }"}, headers=headers)
    assert mutation.status_code == 405
    assert mutation.headers["allow"] == "POST"


async def test_graphql_response_json_is_used_when_asked_for_with_4xx_for_request_errors(
    http: httpx.AsyncClient, token: Any
) -> None:
    headers = {
        "Authorization": f"Bearer {token(Role.FRONTLINE)}",
        "Accept": "application/graphql-response+json, application/json;q=0.9",
    }
    ok = await http.post("/graphql", json={"query": "{ viewer { role } }"}, headers=headers)
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")

    for query, code in [
        ("{ viewer { ", "GRAPHQL_PARSE_FAILED"),
        ("{ viewer { nope } }", "GRAPHQL_VALIDATION_FAILED"),
    ]:
        failed = await http.post("/graphql", json={"query": query}, headers=headers)
        assert failed.status_code == 400
        assert "data" not in failed.json()
        assert failed.json()["errors"][0]["extensions"]["code"] == code
        assert failed.json()["extensions"]["requestId"] == failed.headers["x-request-id"]

    coercion = await http.post(
        "/graphql",
        json={
            "query": "query($n: Int!) { customers(first: $n) { edges { cursor } } }",
            "variables": {"n": "x"},
        },
        headers=headers,
    )
    assert coercion.status_code == 400
    assert "data" not in coercion.json()


async def test_application_json_keeps_200_for_request_errors(http: httpx.AsyncClient, token: Any) -> None:
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}", "Accept": "application/json"}
    failed = await http.post("/graphql", json={"query": "{ viewer { nope } }"}, headers=headers)
    assert failed.status_code == 200
    assert failed.headers["content-type"].startswith("application/json")
    assert failed.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_batch_runs_each_operation_and_answers_in_order(http: httpx.AsyncClient, token: Any) -> None:
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    response = await http.post(
        "/graphql",
        json=[{"query": "{ viewer { role } }"}, {"query": "{ nope }"}, {"query": "{ viewer { subject } }"}],
        headers=headers,
    )
    assert response.status_code == 200
    first, second, third = response.json()
    assert first["data"] == {"viewer": {"role": "FRONTLINE"}}
    assert second["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert third["data"] == {"viewer": {"subject": "tester"}}


async def test_other_media_types_are_refused_with_415(http: httpx.AsyncClient, token: Any) -> None:
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    for content_type in (
        "text/plain",
        "application/json; charset=utf-16",
        "application/x-www-form-urlencoded",
    ):
        response = await http.post(
            "/graphql",
            content=b'{"query": "{ viewer { role } }"}',
            headers={**headers, "Content-Type": content_type},
        )
        assert response.status_code == 415, content_type
