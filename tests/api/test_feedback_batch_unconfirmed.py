"""Feedback whose commit the database leaves unanswered past the request's time limit is never answered
TIMEOUT: a commit answered late is answered as stored, and one left unanswered past the driver's deadline (the
limit and its grace) MAYBE_STORED (a batch's chunks after it NOT_STARTED); sending it again tells what was
stored.

The database falls silent behind a proxy as the commit goes out: heard again once the limit has passed, or
silent while the server commits again under a bound of its own, so that commit goes unconfirmed too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from api.storage.client import create_client
from api.storage.embedded import EmbeddedDatabase
from auth.principal import Role
from domain.employees.models import Employee
from domain.feedback.batch import CHUNK
from domain.repositories import Repositories
from tests import factories as f
from tests.api.test_feedback_batch_limits import BATCH, AtFeedbackCommit, item
from tests.conftest import GraphQLClient, client_for
from tests.ops.faults import Proxy


class SilentFromCommit(AtFeedbackCommit):
    """Silences the database as the first transaction storing feedback sends its commit, until
    ``heard_again`` is called (``heard_after`` seconds later, when given)."""

    def __init__(self, proxy: Proxy, *, heard_after: float | None = None) -> None:
        super().__init__()
        self.proxy = proxy
        self.heard_after = heard_after  # seconds of silence, when heard again before the answer
        self._silence = contextlib.ExitStack()

    def at_commit(self) -> None:
        self._silence.enter_context(self.proxy.silent())
        if self.heard_after is not None:
            asyncio.get_running_loop().call_later(self.heard_after, self.heard_again)

    def heard_again(self) -> None:
        self._silence.close()


BATCH_LIMIT = 2.0


@pytest.fixture
async def seeded(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[EmbeddedDatabase, Employee, list[Any]]]:
    """A database of its own (the proxy goes in front of it): a frontline agent and customers in north."""
    server = EmbeddedDatabase(tmp_path / "db")
    server.start()
    try:
        client = create_client(server.uri)
        repos = Repositories.on(client[settings.database_name])
        agent = f.employee(name="Agent", regions=("north",))
        customers = [f.customer(region="north") for _ in range(5)]
        await repos.employees.insert_many([agent])
        await repos.customers.insert_many(customers)
        await client.close()
        yield server, agent, customers
    finally:
        server.stop()


@pytest.fixture
def proxy(seeded: tuple[EmbeddedDatabase, Employee, list[Any]]) -> Iterator[Proxy]:
    with Proxy(seeded[0].port) as proxy:
        yield proxy


async def test_a_chunk_whose_commit_goes_unconfirmed_answers_maybe_stored_and_a_resend_tells(
    settings: Settings, token: Any, seeded: tuple[EmbeddedDatabase, Employee, list[Any]], proxy: Proxy
) -> None:
    _, agent, customers = seeded
    bearer = token(Role.FRONTLINE, sub=agent.id, regions=["north"])
    items = [item(f"u-{n}", customers[n % len(customers)], nps=n % 11) for n in range(CHUNK * 2)]
    # The silence outlasts the probe's default timeout: the watch must not answer UNAVAILABLE meanwhile.
    # The limit leaves the first chunk ten times the 0.2 s it takes here to reach its commit: with 0.5 s a
    # loaded machine passed the limit before the commit, and nothing went unconfirmed.
    through_proxy = settings.model_copy(
        update={
            "mongodb_uri": proxy.uri,
            "request_timeout_seconds": BATCH_LIMIT,
            "database_probe_timeout_seconds": 60,
        }
    )
    silence = SilentFromCommit(proxy)
    async with client_for(through_proxy, silence) as http:
        silence.armed = True
        try:
            response = await GraphQLClient(http, bearer).post(BATCH, {"items": items})
        finally:
            silence.heard_again()  # before the app stops: its shutdown talks to the database
    assert silence.acted
    assert response.status_code == 200, response.text
    results = response.json()["data"]["submitFeedbackBatch"]
    assert [r["status"] for r in results] == ["MAYBE_STORED"] * CHUNK + ["NOT_STARTED"] * CHUNK
    maybe = results[:CHUNK]
    assert {r["result"]["__typename"] for r in maybe} == {"MaybeStoredError"}
    assert {r["result"]["code"] for r in maybe} == {"MAYBE_STORED"}

    # Sent again, each item says what became of it: stored once, whichever way its commit went.
    async with client_for(settings.model_copy(update={"mongodb_uri": proxy.uri})) as http:
        again = (await GraphQLClient(http, bearer).execute(BATCH, {"items": items}))["data"][
            "submitFeedbackBatch"
        ]
    assert {r["status"] for r in again[:CHUNK]} <= {"DUPLICATE", "ACCEPTED"}
    assert {r["status"] for r in again[CHUNK:]} == {"ACCEPTED"}
    client = create_client(proxy.uri)
    try:
        assert await client[settings.database_name]["feedback"].count_documents({}) == CHUNK * 2
    finally:
        await client.close()


ONE = """
mutation One($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) {
    __typename
    ... on Error { code }
    ... on FeedbackSubmitted { feedback { id } }
  }
}
"""
LIMIT = 0.5


@pytest.mark.parametrize(
    ("heard_after", "answered"),
    [
        pytest.param(LIMIT + 0.3, "FeedbackSubmitted", id="answered-past-the-limit"),
        pytest.param(None, "MaybeStoredError", id="unconfirmed"),
    ],
)
async def test_a_response_whose_commit_is_answered_past_the_limit_is_never_answered_timeout(
    settings: Settings,
    token: Any,
    seeded: tuple[EmbeddedDatabase, Employee, list[Any]],
    proxy: Proxy,
    heard_after: float | None,
    answered: str,
) -> None:
    _, agent, customers = seeded
    bearer = token(Role.FRONTLINE, sub=agent.id, regions=["north"])
    response_input = item("one-late", customers[0], nps=2, csat=1)
    through_proxy = settings.model_copy(
        update={
            "mongodb_uri": proxy.uri,
            "request_timeout_seconds": LIMIT,
            "database_probe_timeout_seconds": 60,
        }
    )
    silence = SilentFromCommit(proxy, heard_after=heard_after)
    async with client_for(through_proxy, silence) as http:
        silence.armed = True
        try:
            response = await GraphQLClient(http, bearer).post(ONE, {"input": response_input})
        finally:
            silence.heard_again()
    assert silence.acted
    assert response.status_code == 200, response.text
    answer = response.json()["data"]["submitFeedback"]
    assert answer["__typename"] == answered
    client = create_client(proxy.uri)
    try:
        stored = await client[settings.database_name]["feedback"].count_documents({})
        if answered == "FeedbackSubmitted":
            assert stored == 1
        else:
            assert answer["code"] == "MAYBE_STORED"
        # Sent again with the same key, it is stored once either way.
        async with client_for(settings.model_copy(update={"mongodb_uri": proxy.uri})) as http:
            again = (await GraphQLClient(http, bearer).execute(ONE, {"input": response_input}))["data"]
        assert again["submitFeedback"]["__typename"] == "FeedbackSubmitted"
        assert await client[settings.database_name]["feedback"].count_documents({}) == 1
    finally:
        await client.close()
