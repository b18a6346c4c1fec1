"""Listing customers: pages, cursors, filters and search."""

from __future__ import annotations

from typing import Any

from domain.customers.models import CustomerStatus, Segment
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import GraphQLClient

LIST = """
query List($first: Int!, $after: String, $filter: CustomerFilter, $search: String) {
  customers(first: $first, after: $after, filter: $filter, search: $search) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { familyName } }
  }
}
"""


async def names(gql: GraphQLClient, **variables: Any) -> list[str]:
    body = await gql.execute(LIST, {"first": 100, **variables})
    assert "errors" not in body, body
    return [e["node"]["familyName"] for e in body["data"]["customers"]["edges"]]


async def test_pages_follow_each_other_in_name_order_without_gaps_or_repeats(
    gql: GraphQLClient, repos: Repositories
) -> None:
    family_names = [f"Name{i:02d}" for i in range(23)]
    # Two customers share a family and given name: the id breaks the tie, so neither is lost.
    await repos.customers.insert_many(
        [f.customer(family_name=n) for n in reversed(family_names)] + [f.customer(family_name="Name05")]
    )
    seen: list[str] = []
    after = None
    for _ in range(10):
        body = await gql.execute(LIST, {"first": 5, "after": after})
        connection = body["data"]["customers"]
        seen += [e["node"]["familyName"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == sorted([*family_names, "Name05"])


async def test_filters_combine(gql: GraphQLClient, repos: Repositories) -> None:
    owner = f.employee()
    await repos.customers.insert_many(
        [
            f.customer(family_name="A", region="north", segment=Segment.AFFLUENT, tags=("vip", "b2b")),
            f.customer(family_name="B", region="south", segment=Segment.AFFLUENT, tags=("vip",)),
            f.customer(family_name="C", region="north", segment=Segment.MASS, status=CustomerStatus.CHURNED),
            f.customer(family_name="D", region="east", owner_id=owner.id),
        ]
    )
    assert await names(gql, filter={"regions": ["north"]}) == ["A", "C"]
    assert await names(gql, filter={"regions": ["north", "south"], "segments": ["AFFLUENT"]}) == ["A", "B"]
    assert await names(gql, filter={"status": "CHURNED"}) == ["C"]
    assert await names(gql, filter={"tags": ["vip", "b2b"]}) == ["A"]
    assert await names(gql, filter={"ownerId": encode_global_id("Employee", owner.id)}) == ["D"]


async def test_search_matches_name_prefixes_ignoring_case_and_accents_and_whole_emails(
    gql: GraphQLClient, repos: Repositories
) -> None:
    await repos.customers.insert_many(
        [
            f.customer(given_name="María", family_name="García", emails=("maria.garcia@example.com",)),
            f.customer(given_name="Mario", family_name="Rossi", emails=("mrossi@example.org",)),
            f.customer(given_name="Zoë", family_name="Müller", emails=("zoe@example.net",)),
        ]
    )
    assert await names(gql, search="mar") == ["García", "Rossi"]
    assert await names(gql, search="MAR garc") == ["García"]
    assert await names(gql, search="zoe mull") == ["Müller"]
    assert await names(gql, search="mrossi@example.org") == ["Rossi"]
    assert await names(gql, search="nobody") == []


async def test_cursor_of_a_filtered_list_continues_the_same_list(
    gql: GraphQLClient, repos: Repositories
) -> None:
    await repos.customers.insert_many(
        [f.customer(family_name=f"N{i}", region="north" if i % 2 else "south") for i in range(6)]
    )
    first_page = await gql.execute(LIST, {"first": 2, "filter": {"regions": ["north"]}})
    after = first_page["data"]["customers"]["pageInfo"]["endCursor"]
    assert await names(gql, after=after, filter={"regions": ["north"]}) == ["N5"]
