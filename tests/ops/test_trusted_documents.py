"""Trusted documents: allowlisted operations by id, Automatic Persisted Queries, and refusal of the rest."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.ops.conftest import RequestCommands

VIEWER = "query Viewer { viewer { role } }"
SHA = hashlib.sha256(VIEWER.encode()).hexdigest()


@pytest.fixture
def allowlist(tmp_path: Path) -> Path:
    path = tmp_path / "persisted.json"
    path.write_text(json.dumps({"viewer-v1": VIEWER}))
    return path


async def test_an_allowlisted_document_runs_by_id_by_hash_and_in_full(
    app_client: Callable[..., Any], bearer: dict[str, str], allowlist: Path
) -> None:
    async with app_client(persisted_documents_path=allowlist, trusted_documents_only=True) as http:
        by_id = await http.post("/graphql", json={"documentId": "viewer-v1"}, headers=bearer)
        by_hash = await http.post("/graphql", json={"documentId": f"sha256:{SHA}"}, headers=bearer)
        in_full = await http.post("/graphql", json={"query": VIEWER}, headers=bearer)
        over_get = await http.get("/graphql", params={"documentId": "viewer-v1"}, headers=bearer)
    for response in (by_id, by_hash, in_full, over_get):
        assert response.status_code == 200, response.text
        assert response.json()["data"] == {"viewer": {"role": "FRONTLINE"}}


async def test_when_trusted_documents_are_required_any_other_document_is_refused(
    app_client: Callable[..., Any], request_commands: RequestCommands, bearer: dict[str, str], allowlist: Path
) -> None:
    apq = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(b"{ viewer { subject } }").hexdigest()}
    }
    async with app_client(persisted_documents_path=allowlist, trusted_documents_only=True) as http:
        other = await http.post("/graphql", json={"query": "{ viewer { subject } }"}, headers=bearer)
        unknown = await http.post("/graphql", json={"documentId": "nope"}, headers=bearer)
        registered = await http.post(
            "/graphql", json={"query": "{ viewer { subject } }", "extensions": apq}, headers=bearer
        )
    assert other.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.json()["errors"][0]["extensions"]["code"] == "TRUSTED_DOCUMENT_REQUIRED"
    for response in (other, unknown, registered):
        assert "data" not in response.json()
        assert request_commands.of(response) == 0


async def test_automatic_persisted_queries_register_a_document_by_its_hash(
    app_client: Callable[..., Any], bearer: dict[str, str]
) -> None:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": SHA}}
    async with app_client() as http:
        miss = await http.post("/graphql", json={"extensions": extensions}, headers=bearer)
        register = await http.post(
            "/graphql", json={"query": VIEWER, "extensions": extensions}, headers=bearer
        )
        hit = await http.get("/graphql", params={"extensions": json.dumps(extensions)}, headers=bearer)
        wrong = await http.post(
            "/graphql", json={"query": "{ viewer { subject } }", "extensions": extensions}, headers=bearer
        )
    # Apollo clients answer this exact error by sending the document with its hash.
    assert miss.json()["errors"][0] == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    assert register.json()["data"] == hit.json()["data"] == {"viewer": {"role": "FRONTLINE"}}
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["message"] == "provided sha does not match query"
