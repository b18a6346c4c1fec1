"""The closed loop under load: ``submitFeedback`` through one server process, its alert pushed by another.

Measures mutation throughput and latency at a fixed concurrency, and for every detractor response the time
from the mutation's reply to the arrival of its ``alertRaised`` event at a WebSocket subscriber connected to
a second server process (same database, MongoDB change streams between them).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import websockets
from prometheus_client.parser import text_string_to_metric_families
from websockets.typing import Subprotocol

from api.demo.loader import load
from api.settings import Settings
from api.storage.client import create_client, ensure_schema
from api.storage.standing_worker import rebuild_under_lease
from auth.principal import Role
from auth.tokens import issue_dev_token
from bench.load import percentile
from bench.process import ServerProcess, cpu_seconds, database_cpu_seconds, settle
from domain.repositories import Repositories
from domain.standing.repository import COLLECTION as STANDINGS
from resolvers.node import encode_global_id

CUSTOMERS = 300
SUBMIT = """mutation($input: SubmitFeedbackInput!) {
  submitFeedback(input: $input) { __typename ... on FeedbackSubmitted { feedback { id } } } }"""
RAISED = "subscription { alertRaised { customer { id } } }"
# Both processes serve the production configuration only, each following the change streams once.
TARGET = "pipelines"
# A failed command's outcome in the servers' metrics when a transaction met another's write.
WRITE_CONFLICT = "WriteConflict"
TITLE = "## Closed loop: `submitFeedback` and live alerts across two processes"


@dataclass(frozen=True, slots=True)
class ClosedLoopResult:
    """What the closed-loop run saw."""

    requests: int
    failures: int
    seconds: float
    reply_seconds: tuple[float, ...]  # mutation latency, sorted
    push_seconds: tuple[float, ...]  # reply to subscriber receipt, sorted
    missed: int  # alerts never received within the deadline
    # CPU seconds each process used while the requests were sent: the writer (A), the pusher (B) and the
    # database (None when it is not a process of this machine's).
    writer_cpu: float = 0.0
    pusher_cpu: float = 0.0
    database_cpu: float | None = None
    # With the standing worker on: how long after the last reply the standings of every customer written
    # were recomputed, and the CPU seconds of the three processes together until then (the worker's work
    # left over when the requests end is part of what they cost).
    caught_up_seconds: float | None = None
    caught_up_cpu: float | None = None
    # Commands both servers saw fail with a write conflict over the same span as the CPU (each is a
    # transaction that runs again whole), from their own metrics.
    conflicts: int = 0

    @property
    def conflicts_per_hundred(self) -> str:
        """Write conflicts per 100 requests."""
        return f"{self.conflicts * 100 / self.requests:.0f}" if self.requests else "-"

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def all_cpu(self) -> float | None:
        """CPU seconds of both servers and the database: until the worker caught up when it was waited
        for, else while the requests were sent (None when the database's is not known)."""
        if self.database_cpu is None:
            return None
        if self.caught_up_cpu is not None:
            return self.caught_up_cpu
        return self.writer_cpu + self.pusher_cpu + self.database_cpu

    def per_request_ms(self, seconds: float | None) -> str:
        """CPU seconds as milliseconds per request, for a report ("-" when not measured)."""
        return "-" if seconds is None or not self.requests else f"{seconds / self.requests * 1000:.2f}"


async def _subscriber(url: str, bearer: str) -> websockets.ClientConnection:
    endpoint = url.replace("http://", "ws://") + f"/{TARGET}/graphql"
    ws = await websockets.connect(endpoint, subprotocols=[Subprotocol("graphql-transport-ws")])
    await ws.send(
        orjson.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {bearer}"}}).decode()
    )
    await ws.recv()
    await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": {"query": RAISED}}).decode())
    return ws


async def _wait_subscribed(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as http, asyncio.timeout(30):
        while (await http.get(f"/{TARGET}/healthz")).json().get("subscriptions", 0) < 1:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def measure_closed_loop(
    uri: str,
    *,
    requests: int,
    concurrency: int,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    customers: int = CUSTOMERS,
    db_pid: int | None = None,
    catch_up: bool = False,
) -> ClosedLoopResult:
    """Loads a small data set of ``customers`` into a throwaway database, runs the loop against two
    processes, drops it. Its standings are rebuilt first, as a running deployment has them: else the
    standing worker would rebuild them all while the loop is measured. With ``catch_up`` (the worker on),
    it also waits until the standings of every customer written have been recomputed."""
    name = f"bench_closed_loop_{secrets.token_hex(4)}"
    client = create_client(uri)
    try:
        db = client[name]
        await ensure_schema(db)
        await load(Repositories.on(db), customers=customers, seed=7, as_of=datetime.now(UTC))
        await rebuild_under_lease(db, Repositories.on(db), holder="bench")
        customer_ids = [d["_id"] async for d in db["customers"].find({}, {"_id": 1})]
        regions = sorted(await db["customers"].distinct("region"))
        chosen = customer_ids[: min(requests, len(customer_ids))]
        return await _run(uri, name, chosen, regions, concurrency, log_path, env, db_pid, catch_up=catch_up)
    finally:
        await client.drop_database(name)
        await client.close()


async def _run(
    uri: str,
    name: str,
    customer_ids: list[str],
    regions: list[str],
    concurrency: int,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    db_pid: int | None = None,
    *,
    catch_up: bool = False,
) -> ClosedLoopResult:
    secret = secrets.token_urlsafe(32)
    settings = Settings(mongodb_uri=uri, database_name=name, jwt_secret=secret)
    bearer = issue_dev_token(
        settings.token_settings(), role=Role.FRONTLINE, subject="bench-frontline", regions=regions
    )
    server = {
        "mongodb_uri": uri,
        "database_name": name,
        "jwt_secret": secret,
        "log_path": log_path,
        "env": env,
    }
    with (
        ServerProcess(**server, targets=(TARGET,)) as writer,  # type: ignore[arg-type]
        ServerProcess(**server, targets=(TARGET,)) as pusher,  # type: ignore[arg-type]
    ):
        ws = await _subscriber(pusher.url, bearer)
        await _wait_subscribed(pusher.url)
        received: dict[str, float] = {}
        replied: dict[str, float] = {}
        expected = {encode_global_id("Customer", c) for c in customer_ids}

        async def receive() -> None:
            async for message in ws:
                payload = orjson.loads(message).get("payload", {})
                alert = (payload.get("data") or {}).get("alertRaised")
                if alert:
                    received[alert["customer"]["id"]] = time.perf_counter()
                if expected <= received.keys():
                    return

        receiving = asyncio.create_task(receive())
        # The data set was just written and both servers just started: measured meanwhile, a round would
        # share the machine with what they still do (the database's writes, the servers' start-up).
        waited = await settle([writer.pid, pusher.pid, *([db_pid] if db_pid else [])])
        print(f"  quiet after {waited:.1f} s", flush=True)
        # Scraped before the CPU is read: a scrape also counts the alerts in the database.
        conflicts_before = await _conflicts(writer.url, pusher.url)
        before = _cpu(writer.pid, pusher.pid, db_pid)
        written = datetime.now(UTC)
        reply_seconds, failures, seconds = await _submit_all(
            writer.url, bearer, customer_ids, concurrency, replied
        )
        used = [after - b for after, b in zip(_cpu(writer.pid, pusher.pid, db_pid), before, strict=True)]
        caught_up_seconds = caught_up_cpu = None
        if catch_up:
            ended = time.perf_counter()
            await _standings_recomputed(uri, name, customer_ids, since=written)
            caught_up_seconds = time.perf_counter() - ended
            caught_up_cpu = sum(_cpu(writer.pid, pusher.pid, db_pid)) - sum(before)
        conflicts = await _conflicts(writer.url, pusher.url) - conflicts_before
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(receiving), timeout=30)
        receiving.cancel()
        await ws.close()
    pushes = tuple(sorted(received[c] - replied[c] for c in replied if c in received))
    return ClosedLoopResult(
        len(customer_ids),
        failures,
        seconds,
        reply_seconds,
        pushes,
        missed=len(replied) - len(pushes),
        writer_cpu=used[0],
        pusher_cpu=used[1],
        database_cpu=used[2] if db_pid else None,
        caught_up_seconds=caught_up_seconds,
        caught_up_cpu=caught_up_cpu if db_pid else None,
        conflicts=conflicts,
    )


async def _standings_recomputed(uri: str, name: str, customer_ids: list[str], *, since: datetime) -> None:
    """Returns once the standings of all these customers were computed after ``since`` (polled: a count
    every half second costs the database next to nothing beside the worker's batches)."""
    client = create_client(uri)
    try:
        standings = client[name][STANDINGS]
        query = {"_id": {"$in": customer_ids}, "computedAt": {"$gte": since}}
        async with asyncio.timeout(300):
            while await standings.count_documents(query) < len(customer_ids):  # noqa: ASYNC110 (polled)
                await asyncio.sleep(0.5)
    finally:
        await client.close()


async def _conflicts(*urls: str) -> int:
    """The commands these servers have seen fail with a write conflict so far (``/metrics``)."""
    found = 0
    async with httpx.AsyncClient(timeout=10) as http:
        for url in urls:
            text = (await http.get(f"{url}/{TARGET}/metrics")).text
            found += int(
                sum(
                    sample.value
                    for family in text_string_to_metric_families(text)
                    for sample in family.samples
                    if sample.name == "customer360_db_commands_total"
                    and sample.labels.get("outcome") == WRITE_CONFLICT
                )
            )
    return found


def _cpu(writer: int, pusher: int, database: int | None) -> list[float]:
    return [cpu_seconds(writer), cpu_seconds(pusher), database_cpu_seconds(database) if database else 0.0]


async def _submit_all(
    url: str, bearer: str, customer_ids: list[str], concurrency: int, replied: dict[str, float]
) -> tuple[tuple[float, ...], int, float]:
    run = secrets.token_hex(4)
    pending = list(enumerate(customer_ids))
    latencies: list[float] = []
    failures = 0
    headers = {"authorization": f"Bearer {bearer}", "content-type": "application/json"}
    occurred = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()

    async def worker(http: httpx.AsyncClient) -> None:
        nonlocal failures
        while pending:
            n, customer_id = pending.pop()
            global_id = encode_global_id("Customer", customer_id)
            feedback = {
                "idempotencyKey": f"bench-{run}-{n}",
                "customerId": global_id,
                "channel": "PHONE",
                "touchpoint": "SUPPORT_CALL",
                "occurredAt": occurred,
                "nps": 1,
                "csat": 1,
            }
            body = orjson.dumps({"query": SUBMIT, "variables": {"input": feedback}})
            started = time.perf_counter()
            response = await http.post(f"/{TARGET}/graphql", content=body, headers=headers)
            replied[global_id] = time.perf_counter()
            latencies.append(replied[global_id] - started)
            data = orjson.loads(response.content).get("data") or {}
            if (data.get("submitFeedback") or {}).get("__typename") != "FeedbackSubmitted":
                failures += 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return tuple(sorted(latencies)), failures, time.perf_counter() - started


def render(result: ClosedLoopResult, *, concurrency: int, command: str, when: str) -> list[str]:
    """The report section."""

    def ms(values: tuple[float, ...], share: float) -> str:
        return f"{percentile(values, share) * 1000:.0f}"

    figures = [
        str(result.requests),
        str(result.failures),
        f"{result.per_second:.1f}",
        ms(result.reply_seconds, 0.5),
        ms(result.reply_seconds, 0.99),
        ms(result.push_seconds, 0.5),
        ms(result.push_seconds, 0.99),
        str(result.missed),
        result.conflicts_per_hundred,
    ]
    return [
        TITLE,
        "",
        f"`{command}` on {when}: {result.requests} detractor responses (each raises an alert), sent to "
        f"server process A by {concurrency} concurrent clients, each for another customer of a fresh "
        f"{CUSTOMERS}-customer data set; one `alertRaised` subscriber on server process B "
        "(graphql-transport-ws). Both processes serve the default configuration only, as production "
        "processes do. Push latency runs "
        "from the mutation's reply to the event's arrival at the subscriber (negative when the push arrived "
        "before the reply reached its client). Write conflicts: the commands both processes saw fail with "
        'one while the requests were sent (`customer360_db_commands_total{outcome="WriteConflict"}`), '
        "each a transaction run again whole, per 100 requests.",
        "",
        "| requests | failures | req/s | mutation p50 ms | p99 ms | push p50 ms | p99 ms | missed "
        "| write conflicts /100 req |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| " + " | ".join(figures) + " |",
    ]
