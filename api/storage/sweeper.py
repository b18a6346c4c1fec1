"""The sweep every server process runs: escalation of overdue alerts, the tactical check of every window,
and the daily digests.

Concurrent sweeps escalate each alert once, raise (or clear) each breach's tactical alert once and publish
each region's digest of a day once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime

from api.storage.client import MongoDatabase
from api.storage.stopping import stopped_within
from domain.aggregates.service import compact_rollups, fold_alert_handling, seal_last_month
from domain.alerts.service import escalate_overdue
from domain.digest.service import publish_digests
from domain.repositories import Repositories
from domain.store import UnitOfWork
from domain.tactical.service import check_windows

logger = logging.getLogger("customer360.sweeper")


async def sweep_once(
    repos: Repositories, uow: UnitOfWork, *, kept_whole: set[tuple[str, date]] | None = None
) -> None:
    """One round: escalate what is overdue, fold rollup shards and past days' alert handling shards (and
    keep last month's finest cells whole, unless ``kept_whole`` says an earlier round did), judge every
    touchpoint's window, publish yesterday's digests."""
    now = datetime.now(UTC)
    escalated = await escalate_overdue(repos, uow, now=now)
    if escalated:
        logger.info("escalated %d overdue alerts", escalated)
    if folded := await compact_rollups(repos, uow, now=now):
        logger.debug("folded %d rollup documents into their shard 0", folded)
    if folded := await fold_alert_handling(repos, uow, now=now):
        logger.debug("folded %d shards of alert handling packs into their whole pack", folded)
    if sealed := await seal_last_month(repos, uow, now=now, done=kept_whole):
        logger.info("kept last month's finest rollup cells of %d regions whole", sealed)
    checked = await check_windows(repos, uow, now=now)
    if checked.raised or checked.cleared:
        logger.info("tactical alerts: %d raised, %d cleared", len(checked.raised), len(checked.cleared))
    if published := await publish_digests(repos, uow, now=now):
        logger.info("published %d regions' digests of %s", len(published), published[0].day)


async def sweep_forever(
    db: MongoDatabase,
    uow: UnitOfWork,
    *,
    every_seconds: float,
    stopping: asyncio.Event,
    rollup_zones: Sequence[str] = ("UTC",),
) -> None:
    """Sweep now and then every ``every_seconds``, until ``stopping`` is set."""
    repos = Repositories.on(db, rollup_zones=rollup_zones)
    kept_whole: set[tuple[str, date]] = set()  # (zone, month): last months whose finest cells were kept whole
    while not stopping.is_set():
        try:
            await sweep_once(repos, uow, kept_whole=kept_whole)
        except Exception:  # a failed sweep is retried on the next round; the loop must not die
            logger.exception("sweep failed")
        await stopped_within(stopping, every_seconds)
