"""Listing customers: pages, cursors, filters and search."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
from pymongo import monitoring

from api.settings import Settings
from api.storage.client import MongoDatabase
from auth.principal import Role
from domain.customers.models import CustomerStatus, Segment
from domain.customers.search import TOKENS_VERSION
from domain.repositories import Repositories
from resolvers.node import encode_global_id
from tests import factories as f
from tests.conftest import CommandCounter, GraphQLClient, client_for

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


async def test_pages_backward_from_the_end_with_last_and_before_in_name_order(
    gql: GraphQLClient, repos: Repositories
) -> None:
    family_names = [f"Name{i:02d}" for i in range(23)]
    await repos.customers.insert_many(
        [f.customer(family_name=n) for n in family_names] + [f.customer(family_name="Name05")]
    )
    backward = """query($before: String, $filter: CustomerFilter) {
      customers(last: 5, before: $before, filter: $filter) {
        pageInfo { hasPreviousPage hasNextPage startCursor } edges { cursor node { familyName } } } }"""
    pages: list[list[str]] = []
    before = None
    for _ in range(10):
        connection = (await gql.execute(backward, {"before": before}))["data"]["customers"]
        pages.append([e["node"]["familyName"] for e in connection["edges"]])
        assert connection["pageInfo"]["hasNextPage"] is (before is not None)
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert pages[0] == ["Name18", "Name19", "Name20", "Name21", "Name22"]
    assert [name for page in reversed(pages) for name in page] == sorted([*family_names, "Name05"])

    # A cursor from a backward page continues forward as well, and filters apply the same way.
    last_two = (await gql.execute(backward.replace("last: 5", "last: 2"), {}))["data"]["customers"]
    after = last_two["edges"][0]["cursor"]
    assert await names(gql, after=after) == ["Name22"]
    assert await names(gql, search="name2") == ["Name20", "Name21", "Name22"]


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


async def test_search_transliterates_letters_that_do_not_decompose(
    gql: GraphQLClient, repos: Repositories
) -> None:
    await repos.customers.insert_many(
        [
            f.customer(given_name="Bjørn", family_name="Ødegård", emails=("b.o@example.no",)),
            f.customer(given_name="Łukasz", family_name="Wałęsa", emails=("lw@example.pl",)),
            f.customer(given_name="Đorđe", family_name="Þórsson", emails=("dj@example.rs",)),
            f.customer(given_name="Ægir", family_name="Weiß", emails=("aw@example.de",)),
        ]
    )
    assert await names(gql, search="bjorn") == ["Ødegård"]
    assert await names(gql, search="odegard") == ["Ødegård"]
    assert await names(gql, search="Bjørn Øde") == ["Ødegård"]
    assert await names(gql, search="lukasz walesa") == ["Wałęsa"]
    assert await names(gql, search="dorde thor") == ["Þórsson"]
    assert await names(gql, search="aegir weiss") == ["Weiß"]
    assert await names(gql, search="weiß") == ["Weiß"]


async def test_search_tokens_of_an_older_version_are_rebuilt_at_start_up_once(
    settings: Settings, repos: Repositories, db: MongoDatabase, token: Any
) -> None:
    old, current = f.customer(given_name="Bjørn", family_name="Ødegård"), f.customer(family_name="Current")
    await repos.customers.insert_many([old, current])
    # As stored before transliteration: "ø" kept as it was, so no token reads "odegard", and no version.
    await db["customers"].update_one(
        {"_id": old.id},
        {
            "$set": {"searchTokens": ["bj", "bjø", "bjør", "bjørn", "ød", "øde"]},
            "$unset": {"searchTokensVersion": 1},
        },
    )
    before = await db["customers"].find_one({"_id": old.id})

    for start, expected_updates in ((1, 1), (2, 0)):
        commands = CommandCounter(counting=True)
        async with client_for(settings, commands) as http:
            assert commands.names.count("update") == expected_updates, (start, commands.names)
            commands.counting = False
            gql = GraphQLClient(http, token(Role.FRONTLINE))
            assert await names(gql, search="odegard") == ["Ødegård"]

    after = await db["customers"].find_one({"_id": old.id})
    assert after is not None
    assert before is not None
    assert after["searchTokensVersion"] == TOKENS_VERSION
    assert {k: v for k, v in after.items() if not k.startswith("searchTokens")} == {
        k: v for k, v in before.items() if not k.startswith("searchTokens")
    }, "only the derived tokens change: not the profile's version or update time"


async def test_cursor_of_a_filtered_list_continues_the_same_list(
    gql: GraphQLClient, repos: Repositories
) -> None:
    await repos.customers.insert_many(
        [f.customer(family_name=f"N{i}", region="north" if i % 2 else "south") for i in range(6)]
    )
    first_page = await gql.execute(LIST, {"first": 2, "filter": {"regions": ["north"]}})
    after = first_page["data"]["customers"]["pageInfo"]["endCursor"]
    assert await names(gql, after=after, filter={"regions": ["north"]}) == ["N5"]


@dataclass
class ListReads(monitoring.CommandListener):
    """The pipelines of the aggregates sent to the customers collection, in order."""

    pipelines: list[list[dict[str, Any]]] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "aggregate" and event.command["aggregate"] == "customers":
            self.pipelines.append(copy.deepcopy(list(event.command["pipeline"])))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def bounded(self) -> list[bool]:
        """For each read, whether it was bounded by where its page ended before (a range of sort names)."""
        return ["sortName" in p[0]["$match"] for p in self.pipelines]


@pytest.mark.parametrize("pipelines", [True, False], ids=["pipelines", "loaders"])
async def test_a_page_read_again_is_bounded_by_its_end_and_answers_as_unbounded_after_changes(
    settings: Settings, repos: Repositories, db: MongoDatabase, token: Any, pipelines: bool
) -> None:
    stored = [f.customer(family_name=f"Name{i:02d}") for i in range(30)]
    await repos.customers.insert_many(stored)
    reads = ListReads()
    configured = settings.model_copy(update={"compiled_pipelines": pipelines})
    async with client_for(configured, reads) as http:
        gql = GraphQLClient(http, token(Role.FRONTLINE))
        # Timelines too, so the pipelines read records below the page (nothing on the loaders' path).
        query = LIST.replace("familyName }", "familyName timeline(first: 2) { edges { cursor } } }")
        assert "timeline" in query

        async def listed() -> list[str]:
            body = await gql.execute(query, {"first": 10})
            return [e["node"]["familyName"] for e in body["data"]["customers"]["edges"]]

        assert await listed() == await listed() == [f"Name{i:02d}" for i in range(10)]
        assert reads.bounded() == [False, True]
        # Three of the page's customers go, one arrives before its end: the old end bounds 8 of 11.
        await db["customers"].delete_many({"_id": {"$in": [c.id for c in stored[2:5]]}})
        await repos.customers.insert_many([f.customer(family_name="Name00a")])

        after_changes = await listed()

        expected = ["Name00", "Name00a", "Name01", *(f"Name{i:02d}" for i in range(5, 12))]
        assert after_changes == expected
        assert reads.bounded() == [False, True, True, False]  # short, so read again whole
        assert await listed() == expected
        assert reads.bounded()[-1]
