"""A feedback batch whose commit the database leaves unanswered past the driver's deadline (the request's time
limit and its grace): the chunk answers MAYBE_STORED, the chunks after it NOT_STARTED, never the whole request
TIMEOUT; sending the batch again tells what was stored.

The database falls silent behind a proxy as the chunk's commit goes out, and stays silent while the server
commits again under a bound of its own, so that commit goes unconfirmed too.
"""

from __future__ import annotations

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
    ``heard_again`` is called."""

    def __init__(self, proxy: Proxy) -> None:
        super().__init__()
        self.proxy = proxy
        self._silence = contextlib.ExitStack()

    def at_commit(self) -> None:
        self._silence.enter_context(self.proxy.silent())

    def heard_again(self) -> None:
        self._silence.close()


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
    through_proxy = settings.model_copy(
        update={
            "mongodb_uri": proxy.uri,
            "request_timeout_seconds": 0.5,
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
