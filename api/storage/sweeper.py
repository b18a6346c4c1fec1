"""The escalation sweep every server process runs; concurrent sweeps escalate each alert once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from api.storage.client import MongoDatabase
from domain.alerts.service import escalate_overdue
from domain.repositories import Repositories

logger = logging.getLogger("customer360.sweeper")


async def sweep_forever(db: MongoDatabase, *, every_seconds: float, stopping: asyncio.Event) -> None:
    """Escalate overdue alerts now and then every ``every_seconds``, until ``stopping`` is set."""
    repos = Repositories.on(db)
    while not stopping.is_set():
        try:
            escalated = await escalate_overdue(repos, now=datetime.now(UTC))
            if escalated:
                logger.info("escalated %d overdue alerts", escalated)
        except Exception:  # a failed sweep is retried on the next round; the loop must not die
            logger.exception("escalation sweep failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=every_seconds)
