"""Whether the database can take commands, as the last probe found it, and what that means for requests.

A probe pings the database on a client of its own every ``PROBE_INTERVAL_SECONDS``, and keeps pinging for
up to its timeout (the ``database_probe_timeout_seconds`` setting) until one answers: only a probe that got
no answer in that time declares the database unavailable. A command that fails on a dropped connection
declares nothing: the driver retries reads and retryable writes once its monitor finds the server again,
which takes it well under a second.

While the database is unavailable, operations are refused at once with UNAVAILABLE; those already running
when it was declared so are answered the same way right then (``unless_lost``), instead of waiting on the
driver's server selection, its retries or a frozen server's silence. Probing goes on, and service comes
back by itself with the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

import pymongo
from pymongo.errors import PyMongoError

from api.storage.client import Client
from api.storage.stopping import stopped_within

logger = logging.getLogger("customer360.database")

T = TypeVar("T")

PROBE_INTERVAL_SECONDS = 0.5
# A ping that failed at once (a dropped connection) is tried again after this pause, within the timeout.
RETRY_PAUSE_SECONDS = 0.05


class DatabaseLost(Exception):
    """The database was declared unavailable while an operation was waiting on it."""


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Takes note of how a task left behind ended, so an exception while unwinding is not reported."""
    if not task.cancelled():
        task.exception()


class DatabaseWatch:
    """Probes the database (``run``); ``available`` is the last verdict, ``unless_lost`` acts on a loss."""

    def __init__(
        self,
        probe_client: Client,
        *,
        interval: float = PROBE_INTERVAL_SECONDS,
        timeout: float,
    ) -> None:
        self._client = probe_client
        self._interval = interval
        self._timeout = timeout
        self._available = True
        # Resolved when the database is declared unavailable; a fresh one when it is back.
        self._lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def available(self) -> bool:
        """False from a failed probe until a probe gets an answer again."""
        return self._available

    async def probe(self) -> bool:
        """Whether a ping gets an answer within the probe timeout, trying again while time is left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while (remaining := deadline - loop.time()) > 0:
            try:
                # The driver's own deadline bounds server selection and a silent socket alike.
                with pymongo.timeout(remaining):
                    await self._client.admin.command("ping")
            except PyMongoError:
                await asyncio.sleep(min(RETRY_PAUSE_SECONDS, max(deadline - loop.time(), 0)))
                continue
            return True
        return False

    async def run(self, stopping: asyncio.Event) -> None:
        """Until ``stopping`` is set: probe, act on a change of verdict, wait the interval.

        It is stopped by the event, never cancelled: on Python 3.11 a cancellation arriving as a driver
        call completes can be lost inside the driver's ``wait_for``, and the loop would probe on forever
        while shutdown waited for it.
        """
        while not stopping.is_set():
            self._settle(await self.probe())
            await stopped_within(stopping, self._interval)

    def _settle(self, answered: bool) -> None:
        if answered == self._available:
            return
        self._available = answered
        if answered:
            logger.warning("database available again")
            self._lost = asyncio.get_running_loop().create_future()
        else:
            logger.warning("database unavailable: no answer to a ping within %g s", self._timeout)
            self._lost.set_result(None)

    async def unless_lost(self, work: Coroutine[Any, Any, T]) -> T:
        """The result of ``work``, or DatabaseLost as soon as the database is declared unavailable.

        Work left behind is not cancelled: by then it waits in the driver's server selection, whose
        condition a cancellation can leave locked for good on Python 3.11 (its ``wait_for`` runs the wait
        in a task of its own), wedging every later operation of the client. It ends by itself when the
        driver gives up (the caller bounds that with a driver timeout) or the database answers again.
        """
        task = asyncio.ensure_future(work)
        try:
            await asyncio.wait((task, self._lost), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # The caller itself is cancelled (the shutdown grace ran out): the work stops with it.
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
            raise
        if task.done():
            return task.result()
        task.add_done_callback(_retrieve)
        raise DatabaseLost
