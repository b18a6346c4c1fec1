"""customer360 as an Apollo Federation subgraph: composition, the committed SDL, and `_entities` per role."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from api.settings import Settings
from api.storage.client import MongoDatabase
from auth.principal import Role
from domain.repositories import Repositories
from domain.store import UnitOfWork
from resolvers.schema import build_schema, schema_sdl, subgraph_sdl
from tests.api.world import World, build_world
from tests.conftest import GraphQLClient, client_for
from tests.fastpath.test_equivalence import answer, audit_rows

SUBGRAPH_FILE = Path(__file__).resolve().parents[2] / "subgraph.graphql"
F, M, B, C, INT, BI = Role.FRONTLINE, Role.MANAGER, Role.BOARD, Role.CUSTOMER, Role.INTEGRATION, Role.BI

ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Customer { id displayName emails birthDate }
    ... on Feedback { id comment }
    ... on Employee { id name }
  }
}
"""

NODE = "query($id: ID!) { node(id: $id) { __typename ... on Customer { id displayName emails birthDate } } }"


@pytest.fixture
async def world(repos: Repositories, token: Any, uow: UnitOfWork) -> World:
    return await build_world(repos, token, uow)


def customer(global_id: str) -> dict[str, str]:
    return {"__typename": "Customer", "id": global_id}


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def test_the_subgraph_composes_with_another_subgraph_in_apollo_composition(
    live_server: str, token: Any, composer: Path
) -> None:
    done = subprocess.run(
        ["node", str(composer), f"{live_server}/graphql"],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "CUSTOMER360_TOKEN": token(Role.BOARD)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=composer.parent,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["fetched"], summary
    assert summary["errors"] == []
    # The other subgraph's field sits on our Customer, next to ours.
    assert {"reviews", "displayName", "emails", "timeline"} <= set(summary["customerFields"])
    assert {"customers", "node", "topReviews"} <= set(summary["queryFields"])
    assert summary["entityKeys"] == sorted(
        ["Alert", "Case", "Customer", "Employee", "Feedback", "Interaction", "Opportunity", "Transaction"]
    )


def test_the_committed_subgraph_file_is_up_to_date() -> None:
    assert SUBGRAPH_FILE.read_text() == subgraph_sdl(), (
        "subgraph.graphql is stale: run `customer360 export-schema --federation`"
    )


@pytest.mark.parametrize("role", list(Role))
async def test_service_gives_every_role_the_committed_subgraph_sdl(
    http: httpx.AsyncClient, token: Any, role: Role
) -> None:
    body = await GraphQLClient(http, token(role)).execute("{ _service { sdl } }")
    assert body["data"]["_service"]["sdl"] == SUBGRAPH_FILE.read_text()


def test_the_plain_schema_has_no_federation() -> None:
    plain = schema_sdl()
    for word in ("_entities", "_service", "@key", "@link", "_Any"):
        assert word not in plain


async def test_a_server_without_federation_has_no_entities(settings: Settings, token: Any) -> None:
    async with client_for(settings.model_copy(update={"federation": False})) as http:
        body = await GraphQLClient(http, token(Role.FRONTLINE)).result("{ _service { sdl } }")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_service_is_not_answered_when_introspection_is_off(settings: Settings, token: Any) -> None:
    async with client_for(settings.model_copy(update={"introspection": False})) as http:
        body = await GraphQLClient(http, token(Role.MANAGER)).result("{ _service { sdl } }")
    assert codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize("role", list(Role))
async def test_entities_follow_the_policy_of_node_for_every_role(
    http: httpx.AsyncClient, world: World, role: Role
) -> None:
    representations = [customer(world.north.customer_id)]
    gql = GraphQLClient(http, world.tokens[role])
    entities = await gql.result(ENTITIES, {"representations": representations})
    node = await gql.result(NODE, {"id": world.north.customer_id})
    if role in (F, M):
        assert "errors" not in entities, entities
        [entity] = entities["data"]["_entities"]
        assert entity == node["data"]["node"]
    else:
        assert codes(entities) == codes(node) == ["FORBIDDEN"]
        assert entities["data"] is None or not entities["data"].get("_entities")


async def test_entities_mask_for_managers_and_stay_within_the_callers_rows(
    http: httpx.AsyncClient, world: World
) -> None:
    representations = [
        customer(world.north.customer_id),
        customer(world.south.customer_id),  # another region: null, as node answers
        {"__typename": "Feedback", "id": world.north.ids["Feedback"]},
        {"__typename": "Employee", "id": world.north.customer_id},  # a Customer's id: no such employee
    ]
    frontline = await GraphQLClient(http, world.tokens[F]).execute(
        ENTITIES, {"representations": representations}
    )
    north, south, feedback, mismatch = frontline["data"]["_entities"]
    assert north["emails"] == ["jane.north@example.com"]
    assert north["birthDate"] == "1985-04-02"
    assert south is None
    assert feedback == {"__typename": "Feedback", "id": world.north.ids["Feedback"], "comment": "Too slow."}
    assert mismatch is None

    manager = await GraphQLClient(http, world.tokens[M]).execute(
        ENTITIES, {"representations": representations}
    )
    north = manager["data"]["_entities"][0]
    assert north["emails"] == ["j***@example.com"]
    assert north["birthDate"] is None


async def test_a_malformed_representation_fails_alone(http: httpx.AsyncClient, world: World) -> None:
    representations = [
        customer(world.north.customer_id),
        {"__typename": "Customer", "id": "not-a-global-id"},
        {"__typename": "Secret", "id": world.north.customer_id},
        {"id": world.north.customer_id},
    ]
    body = await GraphQLClient(http, world.tokens[F]).result(ENTITIES, {"representations": representations})
    entities = body["data"]["_entities"]
    assert entities[0]["emails"] == ["jane.north@example.com"]
    assert entities[1:] == [None, None, None]
    assert sorted(tuple(e["path"]) for e in body["errors"]) == [
        ("_entities", 1),
        ("_entities", 2),
        ("_entities", 3),
    ]
    assert set(codes(body)) == {"VALIDATION"}


async def test_entities_read_personal_data_into_the_audit_trail_like_node(
    http: httpx.AsyncClient, world: World, db: MongoDatabase
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": ENTITIES, "variables": {"representations": [customer(world.north.customer_id)]}},
        headers={"Authorization": f"Bearer {world.tokens[F]}", "X-Request-Id": "req-federated"},
    )
    assert response.status_code == 200
    entries = await db["audit"].find({"requestId": "req-federated"}, {"_id": 0, "at": 0}).to_list()
    assert entries == [
        {
            "subject": "agent-north",
            "role": "frontline",
            "customerId": world.north.customer.id,
            "fields": ["birthDate", "displayName", "emails"],
            "operation": "Entities",
            "requestId": "req-federated",
        }
    ]


async def test_entities_cost_like_a_page_of_as_many_nodes_as_representations(
    http: httpx.AsyncClient, world: World
) -> None:
    query = """query($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Customer { owner { name } } } }"""
    representations = [customer(world.north.customer_id), customer(world.south.customer_id)] * 2
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": {"representations": representations}},
        headers={"Authorization": f"Bearer {world.tokens[F]}"},
    )
    cost = response.json()["extensions"]["cost"]
    # 2 + 4 entities + 4 x (owner: 1); the south customer is outside the caller's rows: null, not counted.
    assert cost["requested"] == 2 + 4 + 4 * 1
    assert cost["actual"] == 2 + 2 * (1 + 1)


async def test_too_many_representations_are_refused_before_anything_runs(
    settings: Settings, world: World
) -> None:
    query = "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }"
    async with client_for(settings.model_copy(update={"max_cost": 100})) as http:
        response = await GraphQLClient(http, world.tokens[F]).post(
            query, {"r": [customer(world.north.customer_id)] * 99}
        )
    assert response.status_code == 400
    body = response.json()
    assert codes(body) == ["LIMIT_EXCEEDED"]
    assert body["extensions"]["cost"]["requested"] == 2 + 99


@pytest.mark.parametrize("role", list(Role))
async def test_entities_answer_the_same_on_the_compiled_and_the_stock_executor(
    settings: Settings, world: World, repos: Repositories, role: Role
) -> None:
    schemas = {
        "stock": build_schema(compiled=False, federation=True),
        "compiled": build_schema(compiled=True, federation=True),
    }
    representations = [
        customer(world.north.customer_id),
        customer(world.south.customer_id),
        *({"__typename": kind, "id": global_id} for kind, global_id in world.north.ids.items()),
    ]
    documents = [
        (ENTITIES, {"representations": representations}),
        (ENTITIES, {"representations": [*representations, {"__typename": "Customer", "id": "bad"}]}),
        ("{ _service { sdl } }", {}),
    ]
    executor: Any = schemas["compiled"].execution_context_class
    audited = [world.north.customer.id, world.south.customer.id]
    async with (
        client_for(settings, schema=schemas["stock"]) as stock,
        client_for(settings, schema=schemas["compiled"]) as compiled,
    ):
        for query, variables in documents:
            answers = {}
            retries = executor.retries
            for name, client in (("stock", stock), ("compiled", compiled)):
                before = await audit_rows(repos, audited)
                answers[name] = await answer(client, world.tokens[role], query, variables)
                written = await audit_rows(repos, audited)
                for row in before:
                    written.remove(row)
                answers[name] += orjson.dumps(written)
            assert answers["compiled"] == answers["stock"], query
            if b'"errors":null' in answers["stock"]:
                assert executor.retries == retries, query
