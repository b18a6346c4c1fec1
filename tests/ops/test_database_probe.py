"""A database slow to answer is not a lost one: it is declared unavailable only when it leaves pings
unanswered for ``database_probe_timeout_seconds``.

The embedded database runs one command at a time, so a heavy command keeps it silent for a while; a
probe that gave up after 2 s answered the requests in flight with UNAVAILABLE meanwhile, on a loaded
machine, for work the database was doing.

The silence is a proxy in front of the database holding every request back, connections open. Freezing the
database process (SIGSTOP) instead let a request through now and then under the parallel suite: the test
then saw an answer it could not tell from one given while silent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from api.storage.client import create_client
from api.storage.embedded import EmbeddedDatabase
from auth.principal import Role
from domain.repositories import Repositories
from tests import factories as f
from tests.conftest import client_for
from tests.ops.faults import Proxy

QUERY = "{ customers(first: 5) { edges { node { id } } } }"


@pytest.fixture
async def database(settings: Settings, tmp_path: Path) -> AsyncIterator[EmbeddedDatabase]:
    server = EmbeddedDatabase(tmp_path / "db")
    server.start()
    try:
        client = create_client(server.uri)
        await Repositories.on(client[settings.database_name]).customers.insert_many([f.customer()])
        await client.close()
        yield server
    finally:
        server.stop()


@pytest.fixture
def proxy(database: EmbeddedDatabase) -> Iterator[Proxy]:
    """The way to the database: the app reaches it through this, which can fall silent."""
    with Proxy(database.port) as proxy:
        yield proxy


class LossVerdicts(logging.Handler):
    """Sets ``declared`` when the watch logs that the database is unavailable.

    A test waits on that verdict itself, not on a fixed time: a loaded machine may take longer to reach it.
    """

    def __init__(self) -> None:
        super().__init__()
        self.declared = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("database unavailable"):
            self.declared.set()


async def asked_while_silent(
    settings: Settings,
    token: Any,
    proxy: Proxy,
    *,
    silence: Callable[[asyncio.Task[httpx.Response]], Awaitable[object]],
) -> tuple[int, list[str]]:
    """A query sent while the database is silent until ``silence`` (given the query's task) returns: its
    status and error codes once the database answers again."""
    settings = settings.model_copy(update={"mongodb_uri": proxy.uri})
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    async with client_for(settings) as http:
        warm = await http.post("/graphql", json={"query": QUERY}, headers=headers)
        assert warm.status_code == 200, warm.text
        with proxy.silent():
            asked = asyncio.create_task(http.post("/graphql", json={"query": QUERY}, headers=headers))
            await silence(asked)
        answer = await asked
    return answer.status_code, [e["extensions"]["code"] for e in answer.json().get("errors", ())]


async def test_a_database_silent_for_less_than_the_default_probe_timeout_answers_the_request(
    settings: Settings, token: Any, proxy: Proxy
) -> None:
    assert settings.database_probe_timeout_seconds == 5.0  # the default

    async def for_a_while(asked: asyncio.Task[httpx.Response]) -> None:
        await asyncio.sleep(2.5)
        assert not asked.done(), "the query was answered while the database was silent: it proved nothing"

    status, codes = await asked_while_silent(settings, token, proxy, silence=for_a_while)
    assert (status, codes) == (200, [])


async def test_a_database_silent_for_longer_than_the_probe_timeout_is_declared_unavailable(
    settings: Settings, token: Any, proxy: Proxy
) -> None:
    verdicts = LossVerdicts()
    watch_log = logging.getLogger("customer360.database")
    watch_log.addHandler(verdicts)

    silent: list[str] = []

    async def until_declared(asked: asyncio.Task[httpx.Response]) -> None:
        # Only a verdict reached while the database is silent counts, not one reached as the app started.
        verdicts.declared.clear()
        declared = asyncio.ensure_future(verdicts.declared.wait())
        started = time.monotonic()
        try:
            # A verdict reached just before the freeze answers the query at once: that ends the wait too.
            await asyncio.wait((declared, asked), timeout=60, return_when=asyncio.FIRST_COMPLETED)
        finally:
            declared.cancel()
        # What happened while silent, for a failure to tell.
        silent.append(
            f"silent {time.monotonic() - started:.2f} s, verdict: {verdicts.declared.is_set()}, "
            f"query answered meanwhile: {asked.done()}"
        )

    try:
        status, codes = await asked_while_silent(
            settings.model_copy(update={"database_probe_timeout_seconds": 0.5}),
            token,
            proxy,
            silence=until_declared,
        )
    finally:
        watch_log.removeHandler(verdicts)
    assert (status, codes) == (503, ["UNAVAILABLE"]), silent
