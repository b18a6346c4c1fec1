"""``experience`` through the endpoint: figures, privacy threshold, scope per role, GET for BI tools."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.settings import Settings
from auth.principal import Role
from domain.customers.models import Customer
from domain.feedback.models import ScoreItem
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient, client_for

OCTOBER = {"from": "2026-10-01", "to": "2026-10-31"}
BY_REGION = """
query($filter: ExperienceFilter!, $groupBy: [AggregateDimension!]) {
  experience(filter: $filter, groupBy: $groupBy) {
    region suppressed responses promoters passives detractors nps csatMean csatTopBoxShare
    npsDistribution { score count } npsP10 npsP50 npsP90 satisfactionIndex
    dimensions { dimension responses satisfactionIndex gap }
  }
}
"""


def customers(region: str, n: int) -> list[Customer]:
    return [f.customer(region=region) for _ in range(n)]


async def seed(repos: Repositories, *, north: int = 5, south: int = 4) -> None:
    """Two October responses per customer: NPS 10 and CSAT 5 on the 10th, NPS 3 and CSAT 2 on the 13th."""
    people = customers("north", north) + customers("south", south)
    await repos.customers.insert_many(people)
    day = datetime(2026, 10, 10, 12, tzinfo=UTC)
    await f.store_feedback(
        repos,
        [
            f.feedback(c, occurred_at=day + timedelta(days=3 * n), nps=nps, csat=csat)
            for c in people
            for n, (nps, csat) in enumerate(((10, 5), (3, 2)))
        ],
    )


def client(http: httpx.AsyncClient, token: Any, role: Role, **claims: Any) -> GraphQLClient:
    return GraphQLClient(http, token(role, **claims))


@pytest.mark.parametrize("role", [Role.BOARD, Role.BI])
async def test_the_company_view_shows_each_region_and_suppresses_the_one_below_the_threshold(
    http: httpx.AsyncClient, repos: Repositories, token: Any, role: Role
) -> None:
    await seed(repos, north=5, south=4)
    body = await client(http, token, role).execute(BY_REGION, {"filter": OCTOBER, "groupBy": ["REGION"]})
    assert "errors" not in body
    north, south = body["data"]["experience"]
    assert north == {
        "region": "north",
        "suppressed": False,
        "responses": 10,
        "promoters": 5,
        "passives": 0,
        "detractors": 5,
        "nps": 0.0,
        "csatMean": 3.5,
        "csatTopBoxShare": 0.5,
        "npsDistribution": [{"score": s, "count": 5 if s in (3, 10) else 0} for s in range(11)],
        "npsP10": 3,
        "npsP50": 3,
        "npsP90": 10,
        "satisfactionIndex": 1.1,
        "dimensions": [
            {"dimension": "friendliness", "responses": 10, "satisfactionIndex": 1.0, "gap": 0.0},
            {"dimension": "speed", "responses": 10, "satisfactionIndex": 1.2, "gap": 1.0},
        ],
    }
    assert south == {"region": "south", "suppressed": True, **dict.fromkeys(list(north)[2:])}


async def test_the_threshold_is_configurable(settings: Settings, repos: Repositories, token: Any) -> None:
    await seed(repos, north=5, south=4)
    async with client_for(settings.model_copy(update={"aggregate_min_customers": 4})) as http:
        body = await client(http, token, Role.BOARD).execute(
            BY_REGION, {"filter": OCTOBER, "groupBy": ["REGION"]}
        )
    assert [b["suppressed"] for b in body["data"]["experience"]] == [False, False]


async def test_a_manager_aggregates_its_own_regions_only(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    await seed(repos, north=5, south=6)
    manager = client(http, token, Role.MANAGER, regions=["north"])

    by_region = await manager.execute(BY_REGION, {"filter": OCTOBER, "groupBy": ["REGION"]})
    total = await manager.execute(BY_REGION, {"filter": OCTOBER})
    elsewhere = await manager.execute(BY_REGION, {"filter": {**OCTOBER, "regions": ["south"]}})
    company = await client(http, token, Role.BOARD).execute(BY_REGION, {"filter": OCTOBER})

    assert [b["region"] for b in by_region["data"]["experience"]] == ["north"]
    assert total["data"]["experience"][0]["responses"] == 10
    assert elsewhere["data"]["experience"] == []
    assert company["data"]["experience"][0]["responses"] == 22


async def test_buckets_by_week_compare_with_the_week_before(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    await seed(repos, north=5, south=0)
    query = """
    query($filter: ExperienceFilter!) {
      experience(filter: $filter, interval: WEEK) {
        periodStart periodEnd responses nps npsChange csatMeanChange
      }
    }
    """
    manager = client(http, token, Role.MANAGER, regions=["north"])
    body = await manager.execute(query, {"filter": {**OCTOBER, "timeZone": "UTC"}})
    # 2026-10-10 is a Saturday: the promoters fall in the week of the 5th, the detractors in that of the 12th.
    first = {"periodStart": "2026-10-05", "periodEnd": "2026-10-11", "responses": 5, "nps": 100.0}
    second = {"periodStart": "2026-10-12", "periodEnd": "2026-10-18", "responses": 5, "nps": -100.0}
    assert body["data"]["experience"] == [
        {**first, "npsChange": None, "csatMeanChange": None},
        {**second, "npsChange": -200.0, "csatMeanChange": -3.0},
    ]


async def test_feedback_submitted_through_the_api_is_in_the_aggregates_at_once(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    people = customers("north", 5)
    await repos.customers.insert_many(people)
    submit = """
    mutation($id: ID!, $key: String!, $at: DateTime!) {
      submitFeedback(input: {customerId: $id, idempotencyKey: $key, channel: IN_PERSON,
                             touchpoint: STORE_VISIT, occurredAt: $at, nps: 9}) { __typename }
    }
    """
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    frontline = client(http, token, Role.FRONTLINE)
    for n, person in enumerate(people):
        done = await frontline.execute(
            submit, {"id": encode_global_id("Customer", person.id), "key": f"k{n}", "at": at}
        )
        assert done["data"]["submitFeedback"]["__typename"] == "FeedbackSubmitted"

    today = datetime.now(UTC).date()
    period = {"from": (today - timedelta(days=2)).isoformat(), "to": today.isoformat()}
    manager = client(http, token, Role.MANAGER, regions=["north"])
    body = await manager.execute(BY_REGION, {"filter": period})
    assert body["data"]["experience"][0]["responses"] == 5
    assert body["data"]["experience"][0]["promoters"] == 5


@pytest.mark.parametrize(
    ("filter", "field"),
    [
        ({**OCTOBER, "timeZone": "Mars/Olympus"}, "timeZone"),
        ({**OCTOBER, "timeZone": "Europe/Berlin"}, "timeZone"),  # valid, but no rollups are kept in it
        ({"from": "2026-10-31", "to": "2026-10-01"}, "to"),
        ({**OCTOBER, "regions": [f"r{n}" for n in range(51)]}, "regions"),
    ],
)
async def test_a_request_that_cannot_be_answered_gets_a_validation_error(
    http: httpx.AsyncClient, repos: Repositories, token: Any, filter: dict[str, Any], field: str
) -> None:
    body = await client(http, token, Role.BOARD).result(BY_REGION, {"filter": filter})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"]["field"] == field
    assert body["data"] is None


async def test_bi_tools_fetch_aggregates_by_get_and_may_cache_them_briefly(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    await seed(repos, north=5, south=5)
    headers = {"Authorization": f"Bearer {token(Role.BI)}"}
    params = {"query": BY_REGION, "variables": json.dumps({"filter": OCTOBER, "groupBy": ["REGION"]})}

    response = await http.get("/graphql", params=params, headers=headers)

    assert response.status_code == 200
    assert [b["region"] for b in response.json()["data"]["experience"]] == ["north", "south"]
    assert response.headers["cache-control"] == "private, max-age=60"
    assert "Authorization" in [part.strip() for part in response.headers["vary"].split(",")]

    records = {"query": "{ customers(first: 1) { edges { node { emails } } } }"}
    frontline = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    other = await http.get("/graphql", params=records, headers=frontline)
    assert other.status_code == 200
    assert other.headers["cache-control"] == "no-store"


async def test_a_repeated_pull_of_the_same_figures_is_answered_not_modified(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    await seed(repos, north=5, south=5)
    headers = {"Authorization": f"Bearer {token(Role.BI)}"}
    params = {"query": BY_REGION, "variables": json.dumps({"filter": OCTOBER, "groupBy": ["REGION"]})}
    first = await http.get("/graphql", params=params, headers=headers)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')

    again = await http.get("/graphql", params=params, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    # New figures, a new tag: the client gets the answer again.
    await seed(repos, north=1, south=0)
    changed = await http.get("/graphql", params=params, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


async def test_large_answers_are_compressed_for_clients_that_accept_gzip(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    await seed(repos, north=5, south=5)
    headers = {"Authorization": f"Bearer {token(Role.BI)}", "Accept-Encoding": "gzip"}
    params = {"query": BY_REGION, "variables": json.dumps({"filter": OCTOBER, "groupBy": ["REGION"]})}
    response = await http.get("/graphql", params=params, headers=headers)
    assert response.headers["content-encoding"] == "gzip"
    assert response.json()["data"]["experience"][0]["region"] == "north"  # httpx decodes it
    plain = await http.get("/graphql", params=params, headers={**headers, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    # At zlib's fastest level, as the gzip header's extra flags say (4): the slowest costs 13 times its CPU.
    async with http.stream("GET", "/graphql", params=params, headers=headers) as streamed:
        compressed = b"".join([chunk async for chunk in streamed.aiter_raw()])
    assert compressed[:2] == b"\x1f\x8b"
    assert compressed[8] == 4


async def test_a_service_dimension_rated_by_fewer_customers_than_the_minimum_is_left_out(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    people = customers("north", 6)
    await repos.customers.insert_many(people)
    day = datetime(2026, 10, 10, 12, tzinfo=UTC)
    await f.store_feedback(
        repos,
        [f.feedback(c, occurred_at=day, items=(ScoreItem("speed", 5, 6),)) for c in people[:5]]
        + [f.feedback(people[5], occurred_at=day, items=(ScoreItem("value", 6, 2),))],
    )
    manager = client(http, token, Role.MANAGER, regions=["north"])
    body = await manager.execute(BY_REGION, {"filter": OCTOBER})
    (bucket,) = body["data"]["experience"]
    assert bucket["responses"] == 6
    assert [d["dimension"] for d in bucket["dimensions"]] == ["speed"]


async def test_free_text_dimensions_from_before_the_managed_list_are_left_out(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    people = customers("north", 5)
    await repos.customers.insert_many(people)
    day = datetime(2026, 10, 10, 12, tzinfo=UTC)
    # Stored straight into the database, as responses from before dimensions were a managed list were.
    await f.store_feedback(
        repos,
        [
            f.feedback(
                c, occurred_at=day, items=(ScoreItem("speed", 5, 6), ScoreItem("my parcel was wet", 6, 1))
            )
            for c in people
        ],
    )
    for role in (Role.MANAGER, Role.BOARD):
        body = await client(
            http, token, role, **({"regions": ["north"]} if role is Role.MANAGER else {})
        ).execute(BY_REGION, {"filter": OCTOBER})
        (bucket,) = body["data"]["experience"]
        assert [d["dimension"] for d in bucket["dimensions"]] == ["speed"], role
