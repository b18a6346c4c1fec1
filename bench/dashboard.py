"""The board dashboard at growing feedback volumes: from rollups through the server, against a raw ``$group``.

Each data set holds only feedback (the aggregates read nothing else) spread over 22 months, 5 regions and
every channel, touchpoint and segment, with its rollup cells. The dashboard query is sent to a server
process as a board member; its time should stay flat as the feedback grows, because it reads cells per
bucket, not responses. The same figures by month computed with one ``$group`` over the raw feedback are
timed directly against the database for comparison.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pymongo.errors import BulkWriteError

from api.settings import Settings
from api.storage.client import MongoDatabase, create_client, ensure_schema
from auth.principal import Role
from auth.tokens import issue_dev_token
from bench.datasets import rollup_layout
from bench.load import percentile, run
from bench.measure import commands_so_far
from bench.process import WORKER_OFF, ServerProcess, cpu_seconds
from domain.aggregates.repository import TOTALS_COLLECTION, to_documents, window_totals_documents
from domain.aggregates.rollups import count_in
from domain.aggregates.service import rebuild_rollups
from domain.aggregates.tally import Tally
from domain.customers.models import Segment
from domain.feedback.models import Feedback, FeedbackChannel, ScoreItem, Touchpoint
from domain.feedback.repository import FeedbackRepository
from domain.lists.defaults import default_codes
from domain.lists.models import ListKind
from domain.repositories import Repositories

REGIONS = ("north", "south", "east", "west", "central")
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 669  # to 2026-10-31
BATCH = 2_000
DUPLICATE_KEY = 11000
# Service dimensions from the default managed list: aggregates leave unlisted names out.
DIMENSIONS = default_codes(ListKind.SERVICE_DIMENSION)[:5]

DASHBOARD = """
query BoardDashboard($year: ExperienceFilter!, $quarter: ExperienceFilter!) {
  trend: experience(filter: $year, interval: MONTH) {
    periodStart suppressed responses nps npsChange csatMean satisfactionIndex npsP10 npsP50 npsP90
  }
  regions: experience(filter: $quarter, groupBy: [REGION]) {
    region suppressed responses promoters passives detractors nps csatMean csatTopBoxShare csatBottomBoxShare
    npsDistribution { score count }
  }
  touchpoints: experience(filter: $quarter, groupBy: [TOUCHPOINT]) {
    touchpoint suppressed responses nps csatMean dimensions { dimension satisfactionIndex gap }
  }
}
"""
VARIABLES = {
    "year": {"from": "2025-11-01", "to": "2026-10-31"},
    "quarter": {"from": "2026-08-01", "to": "2026-10-31"},
}
# The trend part of the dashboard, computed from the raw feedback with one $group per month and score.
RAW_TREND: list[dict[str, Any]] = [
    {
        "$match": {
            "occurredAt": {
                "$gte": datetime(2025, 11, 1, tzinfo=UTC),
                "$lt": datetime(2026, 11, 1, tzinfo=UTC),
            }
        }
    },
    {
        "$group": {
            "_id": {"month": {"$dateToString": {"format": "%Y-%m", "date": "$occurredAt"}}, "nps": "$nps"},
            "responses": {"$sum": 1},
            "csat": {"$sum": {"$ifNull": ["$csat", 0]}},
        }
    },
]


@dataclass(frozen=True, slots=True)
class DashboardSize:
    """One data set's figures."""

    feedback: int
    cells: int
    load_seconds: float | None  # None: reused
    requests: int
    failures: int
    per_second: float
    commands: float  # database commands per request
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    raw_group_ms: float | None  # None: not measured at this size


def database_name(feedback: int, seed: int) -> str:
    # The suffix changes whenever the data a size generates does, so an old data set is never reused.
    return f"bench_dashboard_{feedback}_s{seed}_v3"


def responses(count: int, seed: int) -> list[Feedback]:
    """``count`` synthetic responses; about 20 per customer; deterministic for a seed."""
    rng = random.Random(seed)
    customers = max(50, count // 20)
    channels, touchpoints, segments = list(FeedbackChannel), list(Touchpoint), [s.value for s in Segment]
    made = []
    for n in range(count):
        at = START + timedelta(seconds=rng.randrange(DAYS * 86400))
        customer = rng.randrange(customers)
        items = tuple(
            ScoreItem(d, rng.randint(4, 7), rng.randint(2, 7))
            for d in rng.sample(DIMENSIONS, rng.randint(0, 3))
        )
        made.append(
            Feedback(
                id=f"{n:024x}",
                customer_id=f"c{customer:023x}",
                channel=rng.choice(channels),
                touchpoint=rng.choice(touchpoints),
                occurred_at=at,
                received_at=at,
                nps=rng.choice((None, *range(11), 9, 10, 8)),
                csat=rng.choice((None, 1, 2, 3, 4, 5, 4, 5)),
                effort=None,
                items=items,
                comment=None,
                transaction_id=None,
                case_id=None,
                interaction_id=None,
                region=REGIONS[customer % len(REGIONS)],
                segment=segments[customer % len(segments)],
            )
        )
    return made


async def prepare(db: MongoDatabase, feedback: int, seed: int) -> tuple[int, float | None]:
    """The data set's cell count, loading it first unless a complete one is there (then load time is None).
    A kept data set gets the indexes of this version first, as a server's start would give it."""
    await ensure_schema(db)
    marker = await db["benchMeta"].find_one({"_id": "dashboard"})
    if marker is not None and marker.get("layout") == rollup_layout():
        return int(marker["cells"]), None
    began = time.perf_counter()
    if marker is not None:  # the same feedback, with cells of an older layout: recompute them only
        rebuilt = await rebuild_rollups(Repositories.on(db))
        await db["benchMeta"].replace_one(
            {"_id": "dashboard"}, {"_id": "dashboard", "cells": rebuilt.cells, "layout": rollup_layout()}
        )
        return rebuilt.cells, time.perf_counter() - began
    await db.client.drop_database(db.name)
    await ensure_schema(db)
    repos = Repositories.on(db)
    cells: dict[Any, Tally] = {}
    made = responses(feedback, seed)
    for start in range(0, len(made), BATCH):
        chunk = made[start : start + BATCH]
        await insert_all(db, "feedback", [FeedbackRepository.to_document(f) for f in chunk])
        for response in chunk:
            count_in(cells, response, repos.rollups.zones)
        if (start + len(chunk)) % (50 * BATCH) == 0 or start + len(chunk) == len(made):
            print(f"  {start + len(chunk)} / {feedback} responses", flush=True)
    documents = to_documents(cells)
    for start in range(0, len(documents), BATCH // 4):
        await insert_all(db, "rollups", documents[start : start + BATCH // 4])
    await insert_all(db, TOTALS_COLLECTION, window_totals_documents(cells))
    await db["benchMeta"].insert_one({"_id": "dashboard", "cells": len(cells), "layout": rollup_layout()})
    return len(cells), time.perf_counter() - began


@contextlib.contextmanager
def tolerating_duplicates() -> Iterator[None]:
    """Around one bulk insert of new documents. On a loaded machine the driver may resend a batch after a
    dropped connection that the database had already stored part of: those documents are there, and fine."""
    try:
        yield
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", ())):
            raise


async def insert_all(db: MongoDatabase, collection: str, documents: list[dict[str, Any]]) -> None:
    """Insert new documents in one unordered bulk write (see ``tolerating_duplicates``)."""
    with tolerating_duplicates():
        await db[collection].insert_many(documents, ordered=False)


async def time_raw_group(db: MongoDatabase, repeats: int = 3) -> float:
    """Best of ``repeats`` runs of the raw-feedback ``$group``, in milliseconds."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        await (await db["feedback"].aggregate(RAW_TREND)).to_list(None)
        best = min(best, time.perf_counter() - began)
    return best * 1000


async def measure_dashboard(
    uri: str, *, sizes: list[int], requests: int, raw_group_at: int | None, seed: int, log_path: Path
) -> list[DashboardSize]:
    """The dashboard measured on each data set (kept for reuse), with the raw $group at ``raw_group_at``."""
    results = []
    client = create_client(uri, server_selection_timeout_ms=30_000)
    try:
        for size in sizes:
            db = client[database_name(size, seed)]
            print(f"board dashboard: {size} responses ...", flush=True)
            cells, load_seconds = await prepare(db, size, seed)
            measured = await _serve_and_measure(uri, db.name, requests, log_path)
            raw = await time_raw_group(db) if size == raw_group_at else None
            results.append(DashboardSize(size, cells, load_seconds, *measured, raw_group_ms=raw))
    finally:
        await client.close()
    return results


async def _serve_and_measure(
    uri: str, name: str, requests: int, log_path: Path
) -> tuple[int, int, float, float, float, float, float]:
    secret = secrets.token_urlsafe(32)
    bearer = issue_dev_token(
        Settings(mongodb_uri=uri, database_name=name, jwt_secret=secret).token_settings(),
        role=Role.BOARD,
        subject="bench-board",
    )
    headers = {"authorization": f"Bearer {bearer}", "content-type": "application/json"}
    body = {"query": DASHBOARD, "variables": VARIABLES}
    with ServerProcess(
        mongodb_uri=uri, database_name=name, jwt_secret=secret, log_path=log_path, env=WORKER_OFF
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            path = "/stock/graphql"
            await run(http, path, lambda n: body, headers=headers, requests=3, concurrency=1)
            before, sent = cpu_seconds(server.pid), sum((await commands_so_far(http)).values())
            result = await run(http, path, lambda n: body, headers=headers, requests=requests, concurrency=1)
            cpu = (cpu_seconds(server.pid) - before) / max(1, requests)
            commands = (sum((await commands_so_far(http)).values()) - sent) / max(1, requests)
    return (
        result.requests,
        result.failures,
        result.per_second,
        commands,
        percentile(result.latencies, 0.5) * 1000,
        percentile(result.latencies, 0.99) * 1000,
        cpu * 1000,
    )


def render(results: list[DashboardSize], *, requests: int) -> list[str]:
    """The report section."""
    lines = [
        "## Board dashboard",
        "",
        f"`python -m bench --dashboard-feedback ...`: one board member sends the dashboard query {requests} "
        "times, one at a time, after 3 warm-up requests: a year of NPS, CSAT and satisfaction by month (with "
        "percentiles and change), and the last quarter by region (with the NPS distribution) and by "
        "touchpoint (with service dimensions). Data sets hold only feedback over 22 months (5 regions, every "
        "channel, touchpoint and segment, about 20 responses per customer) and its rollup cells "
        "(`bench/dashboard.py`). Raw `$group`: the year-by-month part alone, computed from the raw "
        "feedback with one `$group` (best of 3), timed against the database directly.",
        "",
        "| feedback | rollup cells | req/s | p50 ms | p99 ms | server CPU ms/req | DB commands/req "
        "| failures | raw `$group` ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        raw = f"{r.raw_group_ms:.0f}" if r.raw_group_ms is not None else "-"
        lines.append(
            f"| {r.feedback} | {r.cells} | {r.per_second:.1f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.cpu_ms:.2f} | {r.commands:.1f} | {r.failures} | {raw} |"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        lines += [
            "",
            f"- p50 at {large.feedback} against {small.feedback} responses: "
            f"**{large.p50_ms / small.p50_ms:.2f}x**, for {large.feedback // max(1, small.feedback)}x the "
            "feedback.",
        ]
        if large.raw_group_ms is not None:
            lines.append(
                f"- At {large.feedback} responses the raw `$group` (one part of the dashboard) takes "
                f"{large.raw_group_ms:.0f} ms against {large.p50_ms:.1f} ms for the whole dashboard from "
                f"rollups: **{large.raw_group_ms / large.p50_ms:.0f}x**."
            )
    return lines
