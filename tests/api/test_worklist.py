"""The worklist through the endpoint, with the standing worker running as in the server: who to call first,
why, for whom, and at what cost."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.settings import Settings
from auth.principal import Role
from domain.customers.models import Consent, Customer, Segment
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import CommandCounter, GraphQLClient

WORKLIST = """
query Worklist($first: Int!, $after: String, $filter: WorklistFilter) {
  worklist(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id displayName emails standing { priority action reasons { code text } } } }
  }
}
"""
SUBMIT = """
mutation($input: SubmitFeedbackInput!) { submitFeedback(input: $input) { __typename } }
"""
STANDING = "{ standing { action } }"
DEADLINE = 90.0
NOW = datetime.now(UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The standing worker runs, as it does in every server process."""
    return settings.model_copy(update={"standing_worker": True})


async def listed(client: GraphQLClient, **variables: Any) -> list[dict[str, Any]]:
    body = await client.execute(WORKLIST, {"first": 50, **variables})
    return [edge["node"] for edge in body["data"]["worklist"]["edges"]]


async def until_listed(client: GraphQLClient, count: int, **variables: Any) -> list[dict[str, Any]]:
    """The worklist once the worker has worked out ``count`` standings (it follows writes behind)."""
    deadline = time.monotonic() + DEADLINE
    while len(found := await listed(client, **variables)) < count:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.2)
    return found


async def until_ranked(client: GraphQLClient, actions: list[str]) -> list[dict[str, Any]]:
    """The worklist once the worker has caught up with every write so far: customers are listed as soon as
    they are inserted, and their standings change again with the feedback written after them."""
    deadline = time.monotonic() + DEADLINE
    while True:
        found = await listed(client)
        if [node["standing"]["action"] for node in found] == actions:
            return found
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.2)


SETTLED = ["RECOVER", "GROW", "FOLLOW_UP", "NONE"]  # the people of the north, once their standings follow


@pytest.fixture
async def people(repos: Repositories) -> dict[str, Customer]:
    """North: a recent detractor, a passive, a promoter with marketing consent and an opportunity, one
    without any history; south: a passive."""
    agent = f.employee(regions=("north",))
    customers = {
        "detractor": f.customer(region="north", owner_id=agent.id),
        "passive": f.customer(region="north", segment=Segment.AFFLUENT),
        "promoter": f.customer(
            region="north", consent=Consent(email=True, marketing=True), owner_id=agent.id
        ),
        "newcomer": f.customer(region="north"),
        "southerner": f.customer(region="south"),
    }
    await repos.employees.insert_many([agent])
    await repos.customers.insert_many(list(customers.values()))
    scores = {"detractor": 2, "passive": 8, "promoter": 10, "southerner": 7}
    await repos.feedback.insert_many(
        [f.feedback(customers[k], nps=s, occurred_at=NOW - timedelta(days=12)) for k, s in scores.items()]
    )
    await repos.opportunities.insert_many([f.opportunity(customers["promoter"])])
    return customers


async def standing_of(client: GraphQLClient, customer: str) -> dict[str, Any]:
    return next(node["standing"] for node in await listed(client) if node["id"] == customer)


def frontline(http: httpx.AsyncClient, token: Any, **claims: Any) -> GraphQLClient:
    return GraphQLClient(http, token(Role.FRONTLINE, regions=["north"], **claims))


async def test_the_worklist_ranks_the_regions_customers_with_their_standing_and_reasons(
    http: httpx.AsyncClient, token: Any, people: dict[str, Customer]
) -> None:
    found = await until_ranked(frontline(http, token), SETTLED)
    ids = [node["id"] for node in found]
    assert ids == [
        encode_global_id("Customer", people[k].id) for k in ("detractor", "promoter", "passive", "newcomer")
    ]
    standings = [node["standing"] for node in found]
    assert [(s["action"], s["priority"]) for s in standings] == [
        ("RECOVER", 65),
        ("GROW", 35),
        ("FOLLOW_UP", 25),
        ("NONE", 0),
    ]
    assert standings[0]["reasons"][0]["code"] == "RECENT_BAD_SCORE"
    assert standings[3]["reasons"] == [{"code": "NO_HISTORY", "text": "no history"}]


async def test_a_detractor_submitted_through_the_api_moves_the_customer_up_to_recover(
    http: httpx.AsyncClient, token: Any, people: dict[str, Customer]
) -> None:
    client = frontline(http, token)
    await until_ranked(client, SETTLED)
    submission = {
        "idempotencyKey": "phone-1",
        "customerId": encode_global_id("Customer", people["passive"].id),
        "channel": "PHONE",
        "touchpoint": "SUPPORT_CALL",
        "occurredAt": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "nps": 0,
    }
    body = await client.execute(SUBMIT, {"input": submission})
    assert body["data"]["submitFeedback"]["__typename"] == "FeedbackSubmitted", body
    deadline = time.monotonic() + DEADLINE
    passive = encode_global_id("Customer", people["passive"].id)
    while (standing := await standing_of(client, passive))["action"] != "RECOVER":
        assert time.monotonic() < deadline, standing
        await asyncio.sleep(0.2)
    # 60, an open alert 10, a bad score 5, less 10: the response itself was a contact just now.
    assert standing["priority"] == 65
    assert [r["code"] for r in standing["reasons"]] == ["OPEN_ALERT", "RECENT_BAD_SCORE", "RECENT_CONTACT"]
    ranked = [node["standing"]["action"] for node in await listed(client)]
    assert ranked == ["RECOVER", "RECOVER", "GROW", "NONE"]


async def test_filters_by_action_segment_and_owner(
    http: httpx.AsyncClient, token: Any, people: dict[str, Customer]
) -> None:
    mine = people["promoter"].owner_id
    assert mine is not None
    client = frontline(http, token, sub=mine)
    await until_ranked(client, SETTLED)

    async def names(**where: Any) -> set[str]:
        found = await listed(client, filter=where)
        return {
            k for k, c in people.items() for node in found if node["id"] == encode_global_id("Customer", c.id)
        }

    assert await names(actions=["RECOVER", "GROW"]) == {"detractor", "promoter"}
    assert await names(segments=["AFFLUENT"]) == {"passive"}
    assert await names(owner="ME") == {"detractor", "promoter"}
    assert await names(owner="ME", actions=["NONE"]) == set()


@pytest.mark.parametrize(
    ("where", "field"),
    [({"actions": ["CALL_THEM"]}, "actions"), ({"segments": ["ROYALTY"]}, "segments")],
)
async def test_unknown_actions_and_segments_are_validation_errors(
    http: httpx.AsyncClient, token: Any, where: dict[str, Any], field: str
) -> None:
    body = await frontline(http, token).result(WORKLIST, {"first": 5, "filter": where})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "VALIDATION", "field": field}
    assert body["data"] is None


async def test_a_manager_sees_the_worklist_with_personal_data_masked(
    http: httpx.AsyncClient, token: Any, people: dict[str, Customer]
) -> None:
    manager = GraphQLClient(http, token(Role.MANAGER, regions=["north"]))
    found = await until_listed(manager, 4)
    assert {email for node in found for email in node["emails"]} == {"j***@example.com"}


@pytest.mark.parametrize("role", [Role.BOARD, Role.BI, Role.CUSTOMER, Role.INTEGRATION])
async def test_no_one_else_gets_a_worklist_or_a_standing(
    http: httpx.AsyncClient, token: Any, people: dict[str, Customer], role: Role
) -> None:
    client = GraphQLClient(http, token(role, sub=people["passive"].id))
    body = await client.result(WORKLIST, {"first": 5})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    external = people["passive"].external_ids[0].id
    own = {
        Role.CUSTOMER: f"{{ me {STANDING} }}",
        Role.INTEGRATION: f'{{ customerByExternalId(system: "crm", id: "{external}") {STANDING} }}',
    }
    if role in own:
        denied = await client.result(own[role])
        assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]


NESTED = """
query($first: Int!) {
  worklist(first: $first) {
    edges { node { displayName owner { name } standing { priority action reasons { code } }
      transactions(first: 2) { edges { node { amount { amount } } } } } }
  }
}
"""


async def test_a_page_costs_the_same_commands_for_first_1_and_first_50(
    http: httpx.AsyncClient, token: Any, repos: Repositories, commands: CommandCounter
) -> None:
    staff = f.employee()
    customers = [f.customer(owner_id=staff.id) for _ in range(60)]
    await repos.employees.insert_many([staff])
    await repos.customers.insert_many(customers)
    client = frontline(http, token)
    await until_listed(client, 50)

    async def count(first: int) -> list[str]:
        commands.names.clear()
        commands.counting = True
        body = await client.execute(NESTED, {"first": first})
        commands.counting = False
        assert len(body["data"]["worklist"]["edges"]) == first
        return sorted(commands.names)

    one, fifty = await count(1), await count(50)
    assert fifty == one
    # The bands' counts, the page of standings, the customers, the owners, their transactions, the audit.
    assert len(one) == 6, one
