"""The tactical check at growing feedback volumes: every touchpoint's window judged from rollup cells.

It runs on the board dashboard's data sets (feedback only, 22 months, 5 regions, every channel, touchpoint and
segment, with their rollup cells), with a standard of window targets for every region and touchpoint. The
check is called in the bench process against the database, as a server's sweep calls it: the whole round
(every window) and one touchpoint's window (as a response's intake triggers it). Its cost should not grow
with the responses: it reads the cells of the windows' days, never the responses.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from pymongo import monitoring

from api.storage.client import MongoUnitOfWork, create_client
from bench import dashboard
from domain.aggregates.repository import COLLECTION as ROLLUPS
from domain.aggregates.repository import TOTALS_COLLECTION
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.standards.models import WindowTargets, default_standard
from domain.store import Database
from domain.tactical.service import check_windows

# The data sets end on 2026-10-31: the check runs as of that day's noon.
NOW = datetime(2026, 10, 31, 12, tzinfo=UTC)
# At least 5 answers, so that every window is judged at both sizes: 10,000 responses over 22 months give about
# 14 per region, touchpoint and 28 days (a window judged costs more than one left unjudged).
WINDOW = WindowTargets(
    window_days=28,
    min_responses=5,
    nps_at_least=0,
    csat_bottom_box_share_at_most=0.2,
    satisfaction_index_at_least=0.9,
)


class RollupDocuments(monitoring.CommandListener):
    """Counts the rollup documents the database returns (what it pays for, per document, on this server),
    and the window totals they hold: one per touchpoint and day."""

    COLLECTIONS = (ROLLUPS, TOTALS_COLLECTION)

    def __init__(self) -> None:
        self.read = 0
        self.totals = 0
        self._rollups: set[int] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command.get(event.command_name)
        if name in self.COLLECTIONS or event.command.get("collection") in self.COLLECTIONS:
            self._rollups.add(event.request_id)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.request_id in self._rollups:
            self._rollups.discard(event.request_id)
            cursor = event.reply.get("cursor", {})
            documents = cursor.get("firstBatch", cursor.get("nextBatch", ()))
            self.read += len(documents)
            if cursor.get("ns", "").endswith(f".{TOTALS_COLLECTION}"):
                self.totals += sum(len(of_day) for d in documents for of_day in d.get("days", {}).values())

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._rollups.discard(event.request_id)


@dataclass(frozen=True, slots=True)
class CheckSize:
    """One data set's figures."""

    feedback: int
    raised: int  # tactical alerts the first round raised
    first_ms: float  # the first round, which raised them (and read their worst cells)
    rounds: int
    all_p50_ms: float
    all_p99_ms: float
    all_totals: float  # window totals read per round (one per touchpoint and day)
    all_documents: float  # rollup documents the database returned per round
    one_p50_ms: float
    one_totals: float
    one_documents: float


async def measure_checks(uri: str, *, sizes: list[int], rounds: int, seed: int) -> list[CheckSize]:
    """The check measured on each data set (the dashboard's, created when missing), left as it was found."""
    results = []
    documents = RollupDocuments()
    client = create_client(uri, server_selection_timeout_ms=30_000, event_listeners=[documents])
    try:
        for size in sizes:
            db = client[dashboard.database_name(size, seed)]
            print(f"tactical check: {size} responses ...", flush=True)
            await dashboard.prepare(db, size, seed)
            repos = Repositories.on(db)
            uow = MongoUnitOfWork(client)
            await _clean(db)
            try:
                for region in dashboard.REGIONS:
                    for touchpoint in Touchpoint:
                        standard = replace(
                            default_standard(region, touchpoint),
                            window=WINDOW,
                            updated_at=NOW - timedelta(days=400),
                            version=1,
                        )
                        await repos.standards.save(standard, read_version=0)
                began = time.perf_counter()
                first = await check_windows(repos, uow, now=NOW)
                first_ms = (time.perf_counter() - began) * 1000
                every, every_totals, every_documents = await _rounds(repos, uow, rounds, None, documents)
                pair = {(dashboard.REGIONS[0], Touchpoint.DELIVERY.value)}
                one, one_totals, one_documents = await _rounds(repos, uow, rounds, pair, documents)
            finally:
                await _clean(db)
            results.append(
                CheckSize(
                    feedback=size,
                    raised=len(first.raised),
                    first_ms=first_ms,
                    rounds=rounds,
                    all_p50_ms=statistics.median(every),
                    all_p99_ms=_p99(every),
                    all_totals=every_totals,
                    all_documents=every_documents,
                    one_p50_ms=statistics.median(one),
                    one_totals=one_totals,
                    one_documents=one_documents,
                )
            )
    finally:
        await client.close()
    return results


async def _rounds(
    repos: Repositories,
    uow: MongoUnitOfWork,
    rounds: int,
    only: set[tuple[str, str]] | None,
    documents: RollupDocuments,
) -> tuple[list[float], float, float]:
    """Milliseconds of each of ``rounds`` checks (after one warm-up), and the window totals and rollup
    documents one read."""
    await check_windows(repos, uow, now=NOW, only=only)
    documents.totals = documents.read = 0
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        await check_windows(repos, uow, now=NOW, only=only)
        times.append((time.perf_counter() - began) * 1000)
    return times, documents.totals / max(1, rounds), documents.read / max(1, rounds)


async def _clean(db: Database) -> None:
    """Leave the data set as the dashboard made it: no standards, breaches or alerts."""
    for name in ("serviceStandards", "serviceStandardVersions", "tacticalBreaches", "alerts"):
        await db[name].delete_many({})


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.99 * len(ordered)) - 1)]


def render(results: list[CheckSize], *, command: str, when: str) -> list[str]:
    """The report section."""
    lines = [
        "## Tactical check",
        "",
        f"`{command}` on {when}. On the board dashboard's data sets (see below), with a standard for each of "
        f"the 5 regions x {len(Touchpoint)} touchpoints: targets NPS ≥ {WINDOW.nps_at_least:g}, CSAT "
        f"bottom-box share ≤ {WINDOW.csat_bottom_box_share_at_most:g} and satisfaction index ≥ "
        f"{WINDOW.satisfaction_index_at_least:g} over {WINDOW.window_days} days, at least "
        f"{WINDOW.min_responses} answers. The check (`domain/tactical/service.py` `check_windows`) is called "
        "in the bench process against the database as of 2026-10-31 12:00 UTC: first the round that raises "
        "the breaches (and reads their worst cells), then "
        f"{results[0].rounds if results else 0} rounds of every window (the sweep's) and of one touchpoint's "
        "window (intake's), each after one warm-up round (`bench/tactical_check.py`). The data sets' rollups "
        "are written whole, one document per region and day or month, as the sweep leaves them once it has "
        "folded their shards and window counts. A window reads the running totals of its months (a document "
        "per region and month) through its last day and through the day before its first, and the window "
        "counts not folded into them yet (none here).",
        "",
        "| feedback | breaches raised | first round ms | every window p50 ms | p99 ms | window totals read "
        "| rollup documents read | one window p50 ms | window totals read | rollup documents read |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.feedback} | {r.raised} | {r.first_ms:.1f} | {r.all_p50_ms:.1f} | {r.all_p99_ms:.1f} "
            f"| {r.all_totals:.0f} | {r.all_documents:.0f} | {r.one_p50_ms:.1f} | {r.one_totals:.0f} "
            f"| {r.one_documents:.0f} |"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        ratio = large.all_p50_ms / small.all_p50_ms if small.all_p50_ms else 0.0
        one = large.one_p50_ms / small.one_p50_ms if small.one_p50_ms else 0.0
        lines += [
            "",
            f"- Every window, p50 at {large.feedback} against {small.feedback} responses: **{ratio:.2f}x** "
            f"({'meets' if ratio <= 1.2 else 'misses'} ≤ 1.2); one window: **{one:.2f}x**; for "
            f"{large.feedback // max(1, small.feedback)}x the feedback.",
        ]
    return lines
