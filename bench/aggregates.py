"""Aggregates at BI sizes: churn and experience at 1,000 and 10,000 customers, for a manager and the board.

Each data set is the demo data of that size (``api/demo/generator.py``) with only what the aggregates read
written: the customers with their lifecycle cells, the feedback with its rollup cells, all in bulk, cells
whole at the end (as the demo's loader writes them). A server process answers each query as a manager of
every region (exact figures, grouped by every axis the query has) and as a board member (the publication
lattice: region and one more axis), one request at a time; the time should not grow with the customers.
"""

from __future__ import annotations

import os
import secrets
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo.errors import BulkWriteError

from api.demo.generator import generate
from api.settings import Settings
from api.storage.client import MongoDatabase, create_client, ensure_schema
from auth.principal import Role
from auth.tokens import issue_dev_token
from bench.datasets import generator_digest, rollup_layout, rollups_current
from bench.measure import commands_so_far
from bench.process import WORKER_OFF, ServerProcess
from domain.aggregates.churn import LifecycleCounts, LifecycleKey, count_lifecycle
from domain.aggregates.rollups import CellKey, count_in
from domain.aggregates.tally import Tally
from domain.customers.repository import CustomerRepository, lifecycle_of
from domain.feedback.repository import FeedbackRepository
from domain.repositories import Repositories
from domain.store import Document

DUPLICATE_KEY = 11000

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
TITLE = "## Aggregates at BI sizes"
YEAR = {"from": "2025-11-01", "to": "2026-10-31"}

CHURN = """
query Churn($filter: ChurnFilter!, $groupBy: [CustomerDimension!]) {
  churn(filter: $filter, groupBy: $groupBy, interval: MONTH) {
    periodStart region segment suppressed activeAtStart joined churned churnRate
  }
}
"""
EXPERIENCE = """
query Experience($filter: ExperienceFilter!, $groupBy: [AggregateDimension!]) {
  experience(filter: $filter, groupBy: $groupBy, interval: QUARTER) {
    periodStart region channel touchpoint segment suppressed responses nps npsChange csatMean
    satisfactionIndex
  }
}
"""


@dataclass(frozen=True, slots=True)
class Query:
    """One measured request: who asks what."""

    label: str
    role: Role
    document: str
    group_by: tuple[str, ...]


QUERIES = (
    Query("churn, year by month", Role.MANAGER, CHURN, ("REGION", "SEGMENT")),
    Query("churn, year by month", Role.BOARD, CHURN, ("REGION", "SEGMENT")),
    Query(
        "experience, year by quarter",
        Role.MANAGER,
        EXPERIENCE,
        ("REGION", "CHANNEL", "TOUCHPOINT", "SEGMENT"),
    ),
    Query("experience, year by quarter", Role.BOARD, EXPERIENCE, ("REGION", "TOUCHPOINT")),
)


@dataclass(frozen=True, slots=True)
class Timed:
    """One query measured on one data set."""

    customers: int
    query: Query
    rows: int
    p50_ms: float
    p90_ms: float
    commands: float  # database commands per request


def database_name(customers: int, seed: int) -> str:
    return f"bench_aggregates_{customers}_s{seed}_{generator_digest()}"


async def prepare(db: MongoDatabase, customers: int, seed: int) -> float | None:
    """Load the data set unless a complete one is there; the seconds it took (None: reused as it was)."""
    began = time.perf_counter()
    if await db["benchMeta"].find_one({"_id": "aggregates", "complete": True}) is not None:
        # Cells of another layout are rebuilt from the data set's responses and customers (timed).
        return None if await rollups_current(db, "benchMeta", "aggregates") else time.perf_counter() - began
    await db.client.drop_database(db.name)
    await ensure_schema(db)
    repos = Repositories.on(db)
    cells: dict[CellKey, Tally] = {}
    lifecycles: dict[LifecycleKey, LifecycleCounts] = {}
    for batch in generate(customers=customers, seed=seed, as_of=AS_OF):
        await _insert(db, "customers", [CustomerRepository.to_document(c) for c in batch.customers])
        await _insert(db, "feedback", [FeedbackRepository.to_document(f) for f in batch.feedback])
        for customer in batch.customers:
            count_lifecycle(lifecycles, lifecycle_of(customer), repos.lifecycles.zones)
        for feedback in batch.feedback:
            count_in(cells, feedback, repos.rollups.zones)
    await repos.rollups.insert_cells(cells)
    await repos.lifecycles.insert_cells(lifecycles)
    await db["benchMeta"].insert_one({"_id": "aggregates", "complete": True, "layout": rollup_layout()})
    return time.perf_counter() - began


async def _insert(db: MongoDatabase, name: str, documents: list[Document]) -> None:
    """Insert in bulk; a document already there is the same one (a write the driver retried on a timeout)."""
    if not documents:
        return
    try:
        await db[name].insert_many(documents, ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", ())):
            raise


async def measure_aggregates(
    uri: str, *, sizes: list[int], requests: int, seed: int, log_path: Path
) -> tuple[list[Timed], dict[int, float | None]]:
    """Every query measured on every data set, and how long each data set took to load."""
    timed: list[Timed] = []
    loads: dict[int, float | None] = {}
    client = create_client(uri, server_selection_timeout_ms=30_000)
    try:
        for size in sizes:
            db = client[database_name(size, seed)]
            print(f"aggregates: {size} customers ...", flush=True)
            loads[size] = await prepare(db, size, seed)
            regions = sorted(await db["customers"].distinct("region"))
            timed += await _serve_and_measure(uri, db.name, size, regions, requests, log_path)
    finally:
        await client.close()
    return timed, loads


async def _serve_and_measure(
    uri: str, name: str, size: int, regions: list[str], requests: int, log_path: Path
) -> list[Timed]:
    secret = secrets.token_urlsafe(32)
    token_settings = Settings(mongodb_uri=uri, database_name=name, jwt_secret=secret).token_settings()
    bearers = {
        Role.MANAGER: issue_dev_token(
            token_settings, role=Role.MANAGER, subject="bench-manager", regions=regions
        ),
        Role.BOARD: issue_dev_token(token_settings, role=Role.BOARD, subject="bench-board"),
    }
    timed = []
    with ServerProcess(
        mongodb_uri=uri, database_name=name, jwt_secret=secret, log_path=log_path, env=WORKER_OFF
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=300) as http:
            for query in QUERIES:
                headers = {
                    "authorization": f"Bearer {bearers[query.role]}",
                    "content-type": "application/json",
                }
                body = {
                    "query": query.document,
                    "variables": {"filter": YEAR, "groupBy": list(query.group_by)},
                }
                rows = 0
                for _ in range(2):  # warm-up
                    rows = len(await _ask(http, body, headers))
                sent = sum((await commands_so_far(http)).values())
                latencies = []
                for _ in range(requests):
                    began = time.perf_counter()
                    await _ask(http, body, headers)
                    latencies.append(time.perf_counter() - began)
                commands = (sum((await commands_so_far(http)).values()) - sent) / requests
                latencies.sort()
                timed.append(
                    Timed(
                        size,
                        query,
                        rows,
                        statistics.median(latencies) * 1000,
                        latencies[min(len(latencies) - 1, int(len(latencies) * 0.9))] * 1000,
                        commands,
                    )
                )
                print(f"  {_line(timed[-1])}", flush=True)
    return timed


async def _ask(http: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]) -> list[Any]:
    response = await http.post("/stock/graphql", json=body, headers=headers)
    response.raise_for_status()
    answer = response.json()
    if answer.get("errors"):
        raise RuntimeError(f"the aggregate failed: {answer['errors']}")
    (rows,) = answer["data"].values()
    assert isinstance(rows, list)
    return rows


def _line(t: Timed) -> str:
    return (
        f"{t.query.label} ({t.query.role.value}): {t.rows} rows, p50 {t.p50_ms:.0f} ms, "
        f"p90 {t.p90_ms:.0f} ms, {t.commands:.1f} commands/request"
    )


def render(timed: list[Timed], loads: dict[int, float | None], *, requests: int, command: str) -> list[str]:
    """The report section."""
    load = os.getloadavg()[0]
    sizes = sorted(loads)
    lines = [
        TITLE,
        "",
        f"`{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, one run; load average {load:.1f} on the "
        "shared 2-core machine at its end. Demo data of each size with only what the aggregates read "
        "(customers with their lifecycle cells, feedback with its rollup cells; `bench/aggregates.py`). "
        f"Each query for the year {YEAR['from']} to {YEAR['to']}, sent {requests} times one at a time after "
        "2 warm-up requests: by a manager of every region (exact figures, grouped by every axis the query "
        "has) and by a board member (the publication lattice: region and one more axis).",
        "",
        "| query | role | group by | "
        + " | ".join(f"{s:,} customers: rows, p50 ms, p90 ms" for s in sizes)
        + f" | p50 {sizes[-1]:,}/{sizes[0]:,} | DB commands/request |",
        "| --- | --- | --- | " + " | ".join("---:" for _ in sizes) + " | ---: | ---: |",
    ]
    for query in QUERIES:
        mine = {t.customers: t for t in timed if t.query == query}
        figures = " | ".join(f"{mine[s].rows}, {mine[s].p50_ms:.0f}, {mine[s].p90_ms:.0f}" for s in sizes)
        ratio = mine[sizes[-1]].p50_ms / mine[sizes[0]].p50_ms
        commands = " / ".join(f"{mine[s].commands:.0f}" for s in sizes)
        lines.append(
            f"| {query.label} | {query.role.value} | {', '.join(query.group_by)} | {figures} "
            f"| **{ratio:.2f}x** | {commands} |"
        )
    loaded = [f"{s:,} customers in {loads[s]:.0f} s" for s in sizes if loads[s] is not None]
    if loaded:
        lines += ["", f"- Data sets loaded: {', '.join(loaded)}."]
    return lines
