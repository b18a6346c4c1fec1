"""Tactical checks triggered by intake, debounced: a touchpoint's window is checked soon after a response.

Responses arriving within the debounce time share one check of their touchpoints, so a burst of intake
costs a few checks, not one per response. The sweep checks every window anyway; this only makes a breach
show sooner.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from api.storage.client import MongoDatabase
from api.storage.stopping import stopped_within
from domain.feedback.models import Feedback
from domain.repositories import Repositories
from domain.store import UnitOfWork
from domain.tactical.service import check_windows

logger = logging.getLogger("customer360.tactical")


class IntakeChecks:
    """Collects the touchpoints responses arrived for and checks their windows after a short pause."""

    def __init__(
        self,
        db: MongoDatabase,
        uow: UnitOfWork,
        *,
        debounce_seconds: float,
        stopping: asyncio.Event,
        rollup_zones: Sequence[str] = ("UTC",),
    ) -> None:
        self._repos = Repositories.on(db, rollup_zones=rollup_zones)
        self._uow = uow
        self._debounce = debounce_seconds
        self._stopping = stopping
        self._pending: set[tuple[str, str]] = set()
        self._noticed = asyncio.Event()

    def noticed(self, feedback: Feedback) -> None:
        """A response was stored: check its touchpoint's window soon."""
        if feedback.region is not None:
            self._pending.add((feedback.region, feedback.touchpoint.value))
            self._noticed.set()

    async def run(self) -> None:
        """Check the noticed touchpoints, at most once per debounce time, until ``stopping`` is set."""
        while not self._stopping.is_set():
            waiting = asyncio.ensure_future(self._noticed.wait())
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            stopping.cancel()
            if await stopped_within(self._stopping, self._debounce):
                return
            self._noticed.clear()
            pairs, self._pending = self._pending, set()
            try:
                await check_windows(self._repos, self._uow, now=datetime.now(UTC), only=pairs)
            except Exception:  # the sweep checks every window anyway; this loop must not die
                logger.exception("tactical check after intake failed")
