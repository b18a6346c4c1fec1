"""Whether the database can take commands right now, known without sending any while it can.

The driver marks a server unknown as soon as a command to it fails on the network, so its topology tells
at no cost that the database is gone: operations then fail at once with UNAVAILABLE instead of waiting for
server selection. While it is gone, a probe pings it so the driver looks again soon and service comes back
by itself when the database does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from api.storage.client import Client

logger = logging.getLogger("customer360.database")

PROBE_INTERVAL_SECONDS = 0.5
PROBE_TIMEOUT_SECONDS = 2.0


class DatabaseWatch:
    """Follows the driver's view of the database; ``run`` probes it while it is unavailable."""

    def __init__(self, client: Client, *, probe_interval: float = PROBE_INTERVAL_SECONDS) -> None:
        self._client = client
        self._probe_interval = probe_interval
        self._was_available = False
        self._lost = False

    @property
    def available(self) -> bool:
        """True while the driver knows a server that takes writes (reads and writes go to the primary)."""
        return bool(self._client.topology_description.has_writable_server())

    async def run(self) -> None:
        """Until cancelled: while the database is unavailable, ping it so the driver notices its return."""
        while True:
            available = self.available
            if available != self._was_available:
                # Before the driver first finds the database there is nothing to report.
                if self._was_available or self._lost:
                    logger.warning("database %s", "available again" if available else "unavailable")
                self._lost = self._lost or self._was_available
                self._was_available = available
            if not available:
                with contextlib.suppress(Exception):
                    # Server selection wakes the driver's monitor; success or failure are both fine here.
                    async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                        await self._client.admin.command("ping")
            await asyncio.sleep(self._probe_interval)
