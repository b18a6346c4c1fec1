"""The change feed: one MongoDB change stream per server process, fanned out to its subscribers.

Every process watches the database itself, so an alert written through one process reaches subscribers
connected to any other. After a dropped stream the feed resumes from the last event it saw, so none is lost.
While nothing changes, one getMore waits on the server (up to ``AWAIT_MS``): the feed sends nothing and
spends no CPU meanwhile, and a change is delivered the moment it is committed. Stopping does not wait for it.

The stream does not look up the documents of updates (``fullDocument: updateLookup``): the embedded database
looks up the document of every update in the database before the stream's ``$match`` sees it (rollups,
standings, their counts: several per response, in every process). Inserts and replacements carry their
document; the feed reads the document of an updated alert itself, the one update a subscriber is told of.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from pymongo.errors import PyMongoError

from api.storage.client import MongoDatabase
from domain.alerts.repository import AlertRepository
from domain.digest.repository import DigestRepository
from domain.events import Event, EventKind
from domain.feedback.repository import FeedbackRepository

logger = logging.getLogger("customer360.events")

ALERTS = AlertRepository.collection_name
WATCHED = [
    ALERTS,
    FeedbackRepository.collection_name,
    DigestRepository.collection_name,
]
PIPELINE = [
    {
        "$match": {
            "$or": [
                {"ns.coll": {"$in": WATCHED}, "operationType": {"$in": ["insert", "update", "replace"]}},
                {"operationType": "invalidate"},
            ]
        }
    },
]
QUEUE_SIZE = 1000
# How long one getMore waits on the server for a change before the driver asks again.
AWAIT_MS = 60_000


def to_event(change: dict[str, Any]) -> Event | None:
    """The event a change stands for (None for changes no subscriber cares about)."""
    document = change.get("fullDocument")
    if document is None:
        return None
    if change["ns"]["coll"] == AlertRepository.collection_name:
        kind = EventKind.ALERT_RAISED if change["operationType"] == "insert" else EventKind.ALERT_UPDATED
        return Event(kind, alert=AlertRepository.from_document(document))
    if change["ns"]["coll"] == DigestRepository.collection_name:
        if change["operationType"] != "insert":
            return None
        return Event(EventKind.DIGEST_PUBLISHED, digest=DigestRepository.from_document(document))
    if change["operationType"] == "insert":
        return Event(EventKind.FEEDBACK_RECEIVED, feedback=FeedbackRepository.from_document(document))
    return None


class ChangeFeed:
    """Watches alerts and feedback and hands every event to each local subscriber's queue."""

    def __init__(self, db: MongoDatabase, *, stopping: asyncio.Event, retry_seconds: float = 0.5) -> None:
        self._db = db
        self._retry = retry_seconds
        self._stopping = stopping
        self._queues: set[asyncio.Queue[Event]] = set()
        self._resume_token: Any = None
        self._waiting: asyncio.Future[Any] | None = None  # the getMore in flight

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def run(self) -> None:
        """Watch until ``stopping`` is set, resuming after every failure from the last event seen."""
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                try:
                    async with await self._db.watch(
                        PIPELINE,
                        resume_after=self._resume_token,
                        max_await_time_ms=AWAIT_MS,
                    ) as stream:
                        await self._follow(stream, stopped)
                except PyMongoError as error:
                    logger.warning("change stream dropped, resuming: %s", error)
                # Back off before resuming, unless we are stopping.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopped), timeout=self._retry)
        finally:
            stopped.cancel()

    async def _follow(self, stream: Any, stopped: asyncio.Future[Any]) -> None:
        """Publish the stream's changes until it ends, is interrupted or the feed stops."""
        while stream.alive and not self._stopping.is_set():
            waiting = self._waiting = asyncio.ensure_future(stream.try_next())
            try:
                await asyncio.wait({waiting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._waiting = None
            if not waiting.done():  # stopping: the getMore waiting on the server is abandoned
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError, PyMongoError):
                    await waiting
                return
            if waiting.cancelled():  # interrupted: resume from the last change seen
                return
            change = waiting.result()
            if change is None:
                continue
            if change["operationType"] == "invalidate":
                # The database was dropped or renamed: nothing to resume; watch afresh.
                self._resume_token = None
                return
            if change["operationType"] == "update" and change["ns"]["coll"] == ALERTS:
                # As it is now (as updateLookup reads it); None when it is gone, which tells nobody.
                key = change["documentKey"]["_id"]
                change["fullDocument"] = await self._db[ALERTS].find_one({"_id": key})
            self._resume_token = change["_id"]  # after the read: a failed read resumes before this change
            if (event := to_event(change)) is not None:
                self._publish(event)

    async def interrupt(self) -> None:
        """Drop the current stream's wait (as a network failure would); ``run`` resumes it."""
        if self._waiting is not None:
            self._waiting.cancel()

    def _publish(self, event: Event) -> None:
        for queue in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                # A subscriber that stopped reading loses events rather than stalling everyone.
                queue.put_nowait(event)

    async def subscribe(self) -> AsyncIterator[Event]:
        """Every event from now on, until the subscriber stops iterating."""
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)
