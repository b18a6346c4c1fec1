"""A role that sees e-mails masked can neither confirm nor rebuild them through ``customers(search:)``."""

from __future__ import annotations

import string
from typing import Any

import httpx

from auth.principal import Role
from domain.repositories import Repositories
from tests import factories as f
from tests.conftest import GraphQLClient

SEARCH = """
query($search: String) { customers(first: 10, search: $search) { edges { node { displayName emails } } } }
"""
ADDRESS = "aurora.bianchi117@example.com"


async def answers(client: GraphQLClient, search: str) -> list[str] | str:
    """The names found, or the code of the refusal."""
    body = await client.result(SEARCH, {"search": search})
    if errors := body.get("errors"):
        return str(errors[0]["extensions"]["code"])
    return [edge["node"]["displayName"] for edge in body["data"]["customers"]["edges"]]


async def rebuild(client: GraphQLClient, known: str) -> str:
    """The longest word a search confirms, one more digit at a time, starting from ``known``."""
    word = known
    while len(word) < len(known) + 5:
        for digit in string.digits:
            if "Aurora Bianchi" in await answers(client, word + digit):
                word += digit
                break
        else:
            return word
    return word


async def clients(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> tuple[GraphQLClient, GraphQLClient]:
    """A frontline employee and a manager of Aurora Bianchi's region; the manager sees her e-mail masked."""
    aurora = f.customer(given_name="Aurora", family_name="Bianchi", emails=(ADDRESS,), region="north")
    await repos.customers.insert_many(
        [aurora, f.customer(given_name="Bruno", family_name="Verdi", region="north")]
    )
    frontline = GraphQLClient(http, token(Role.FRONTLINE, sub="agent", regions=["north"]))
    manager = GraphQLClient(http, token(Role.MANAGER, sub="boss", regions=["north"]))
    shown = await manager.execute(SEARCH, {"search": "aurora"})
    assert shown["data"]["customers"]["edges"] == [
        {"node": {"displayName": "Aurora Bianchi", "emails": ["a***@example.com"]}}
    ]
    return frontline, manager


async def test_a_manager_gets_the_same_answer_for_a_masked_address_and_any_other(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    frontline, manager = await clients(http, repos, token)
    assert await answers(frontline, ADDRESS) == ["Aurora Bianchi"]

    exact = await answers(manager, ADDRESS)
    assert "Aurora Bianchi" not in exact
    assert exact == await answers(manager, "aurora.bianchi118@example.com")


async def test_a_manager_cannot_rebuild_a_masked_address_word_by_prefixes(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    frontline, manager = await clients(http, repos, token)
    assert await rebuild(frontline, "bianchi") == "bianchi117"
    # "bianchi" is the family name, which the manager sees; the digits are only in the masked address.
    assert await rebuild(manager, "bianchi") == "bianchi"
    for word in ("bianchi1", "bianchi117", "example", "exa", "aurora bianchi117"):
        assert "Aurora Bianchi" not in await answers(manager, word), word


async def test_a_manager_still_finds_customers_by_the_names_it_sees(
    http: httpx.AsyncClient, repos: Repositories, token: Any
) -> None:
    _, manager = await clients(http, repos, token)
    assert await answers(manager, "aur bian") == ["Aurora Bianchi"]
    assert await answers(manager, "BIANCHI aurora") == ["Aurora Bianchi"]
    assert await answers(manager, "verdi") == ["Bruno Verdi"]
