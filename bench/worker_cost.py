"""What the standing worker costs the database for each customer it recomputes, command by command.

The closed loop with and without the worker (``bench/standings.py``) says what the worker costs the write
path, through two server processes and with all their noise. This takes the worker's own work apart, on data
that stays the same from one round to the next: a data set of ``customers`` whose standings are rebuilt, then
one detractor response each for ``responses`` of them through ``submitFeedback`` (the closed loop's mutation)
with the worker off, while the worker's change stream gathers what they changed in its batches. Each round
then recomputes those batches as the worker does (``domain.standing.service.refresh`` with the changes), on a
fresh copy of that database, and reads the database process's CPU from ``/proc/<pid>/task/*/schedstat``
(nanoseconds, all its threads) before and after.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import monitoring

from api.demo.loader import load
from api.http.app import create_app
from api.settings import Settings
from api.storage.client import MongoUnitOfWork, create_client, ensure_schema
from api.storage.embedded import EmbeddedDatabase
from api.storage.standing_worker import CustomerChanges, rebuild_under_lease
from auth.principal import Role
from auth.tokens import issue_dev_token
from bench.closed_loop import SUBMIT
from bench.process import database_cpu_seconds
from domain.customer_history import Changes
from domain.repositories import Repositories
from domain.standing.service import refresh
from resolvers.node import encode_global_id

TITLE = "## Standing worker: what a recomputation costs"
NAME = "worker_cost"
# The batches the worker gathers with its defaults: the changes of the gathering time, up to its batch limit.
BATCH = 500
GATHER_SECONDS = Settings.model_fields["standing_gather_seconds"].default


@dataclass
class Round:
    """One recomputation of every batch: the database's CPU and the commands, by command and collection."""

    customers: int = 0
    batches: list[int] = field(default_factory=list)  # the customers of each batch recomputed
    database_seconds: float = 0.0
    wall_seconds: float = 0.0
    # (command, collection): [commands, statements or documents written, milliseconds waited]
    commands: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def per_customer_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.customers if self.customers else 0.0


class _Commands(monitoring.CommandListener):
    """Counts the commands, their statements and their time while ``into`` is set."""

    def __init__(self) -> None:
        self.into: Round | None = None
        self._started: dict[int, tuple[str, str, int]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.into is None:
            return
        target = event.command.get(event.command_name)
        written = event.command.get("updates") or event.command.get("documents") or ()
        key = event.request_id
        self._started[key] = (event.command_name, target if isinstance(target, str) else "", len(written))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._ended(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._ended(event.request_id, event.duration_micros)

    def _ended(self, request_id: int, micros: int) -> None:
        started = self._started.pop(request_id, None)
        if started is None or self.into is None:
            return
        name, collection, written = started
        counts = self.into.commands.setdefault((name, collection), [0, 0, 0.0])
        counts[0] += 1
        counts[1] += written
        counts[2] += micros / 1000


def measure(*, customers: int, responses: int, rounds: int) -> list[Round]:
    """Prepares the database once, then recomputes its changes ``rounds`` times, each on a fresh copy."""
    with tempfile.TemporaryDirectory(prefix="customer360-worker-cost-") as scratch:
        prepared = Path(scratch) / "prepared"
        batches = asyncio.run(_prepare(prepared, customers=customers, responses=responses))
        return [
            asyncio.run(_recompute(prepared, Path(scratch) / f"round{n}", batches)) for n in range(rounds)
        ]


async def _prepare(path: Path, *, customers: int, responses: int) -> list[dict[str, Changes]]:
    with EmbeddedDatabase(path) as server:
        client = create_client(server.uri)
        try:
            db = client[NAME]
            await ensure_schema(db)
            await load(Repositories.on(db), customers=customers, seed=7, as_of=datetime.now(UTC))
            await rebuild_under_lease(db, Repositories.on(db), holder="bench")
            ids = [d["_id"] async for d in db["customers"].find({}, {"_id": 1})][:responses]
            regions = sorted(await db["customers"].distinct("region"))
            changes = CustomerChanges(db, wait_ms=200)
            async with changes.opened(None):
                await _submit(server.uri, ids, regions)
                batches = []
                while batch := await changes.next_batch(BATCH, gather_seconds=GATHER_SECONDS):
                    batches.append(batch)
        finally:
            await client.close()
    return batches


async def _submit(uri: str, customer_ids: list[str], regions: list[str]) -> None:
    """A detractor response for each customer, through the API of a server whose worker is off."""
    settings = Settings(
        mongodb_uri=uri, database_name=NAME, jwt_secret=os.urandom(24).hex(), standing_worker=False
    )
    bearer = issue_dev_token(settings.token_settings(), role=Role.FRONTLINE, subject="bench", regions=regions)
    app = create_app(settings)
    occurred = datetime.now(UTC).isoformat()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http,
    ):
        for n, customer_id in enumerate(customer_ids):
            feedback: dict[str, Any] = {
                "idempotencyKey": f"worker-cost-{n}",
                "customerId": encode_global_id("Customer", customer_id),
                "channel": "PHONE",
                "touchpoint": "SUPPORT_CALL",
                "occurredAt": occurred,
                "nps": 1,
                "csat": 1,
            }
            response = await http.post(
                "/graphql",
                json={"query": SUBMIT, "variables": {"input": feedback}},
                headers={"authorization": f"Bearer {bearer}"},
            )
            if "FeedbackSubmitted" not in response.text:
                raise RuntimeError(f"submitFeedback failed: {response.text}")


async def _recompute(prepared: Path, path: Path, batches: list[dict[str, Changes]]) -> Round:
    shutil.copytree(prepared, path)
    measured = Round()
    commands = _Commands()
    with EmbeddedDatabase(path) as server:
        client = create_client(server.uri, event_listeners=[commands])
        try:
            repos, uow = Repositories.on(client[NAME]), MongoUnitOfWork(client)
            await client[NAME].command("ping")
            assert server.pid is not None
            loop = asyncio.get_running_loop()
            commands.into = measured
            cpu, started = database_cpu_seconds(server.pid), loop.time()
            for batch in batches:
                await refresh(repos, uow, list(batch), now=datetime.now(UTC), changes=batch)
                measured.customers += len(batch)
                measured.batches.append(len(batch))
            measured.database_seconds = database_cpu_seconds(server.pid) - cpu
            measured.wall_seconds = loop.time() - started
            commands.into = None
        finally:
            await client.close()
    return measured


def render(rounds: list[Round], *, command: str, when: str, customers: int, responses: int) -> list[str]:
    """The report section: each round's cost per customer, then the first round's commands."""
    lines = [
        TITLE,
        "",
        f"`{command}` on {when}. A data set of {customers} customers with their standings rebuilt, then a "
        f"detractor response for each of {responses} of them through `submitFeedback` with the standing "
        "worker off (one at a time), while the worker's change stream gathered what they changed as the "
        f"worker does by default ({GATHER_SECONDS:g} seconds of changes a batch, up to {BATCH} customers): "
        f"batches of {', '.join(map(str, rounds[0].batches))} customers. Each round recomputes those batches "
        "as the worker does, on a fresh copy of that database (`bench/worker_cost.py`). Database CPU from "
        "the process's scheduler counters, all its threads.",
        "",
        "| round | customers recomputed | database CPU ms/customer | database CPU ms/response "
        "| wall ms/customer |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, measured in enumerate(rounds, start=1):
        # A customer is recomputed again when a later batch names it too: per response is what the loop pays.
        per_response = 1000 * measured.database_seconds / responses
        lines.append(
            f"| {n} | {measured.customers} | {measured.per_customer_ms(measured.database_seconds):.2f} "
            f"| {per_response:.2f} | {measured.per_customer_ms(measured.wall_seconds):.2f} |"
        )
    first = rounds[0]
    lines += [
        "",
        "Round 1's commands, by collection (time waited for each, the network's round trip included):",
        "",
        "| command | collection | commands | statements or documents written | ms/customer |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    by_time = sorted(first.commands.items(), key=lambda item: -item[1][2])
    for (name, collection), (count, written, ms) in by_time:
        cost = first.per_customer_ms(ms / 1000)
        lines.append(f"| {name} | {collection or '-'} | {count:.0f} | {written:.0f} | {cost:.3f} |")
    return lines
