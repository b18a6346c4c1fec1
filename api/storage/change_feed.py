"""The change feed: one MongoDB change stream per server process, fanned out to its subscribers.

Every process watches the database itself, so an alert written through one process reaches subscribers
connected to any other. After a dropped stream the feed resumes from the last event it saw, so none is lost.
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

WATCHED = [
    AlertRepository.collection_name,
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
# How long one getMore waits for changes: the most a stop has to wait for the stream to notice it.
POLL_MS = 250


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
        self._stream: Any = None

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def run(self) -> None:
        """Watch until ``stopping`` is set, resuming after every failure from the last event seen."""
        while not self._stopping.is_set():
            try:
                async with await self._db.watch(
                    PIPELINE,
                    full_document="updateLookup",
                    resume_after=self._resume_token,
                    max_await_time_ms=POLL_MS,
                ) as stream:
                    self._stream = stream
                    while stream.alive and not self._stopping.is_set():
                        change = await stream.try_next()
                        if change is None:
                            continue
                        if change["operationType"] == "invalidate":
                            # The database was dropped or renamed: nothing to resume; watch afresh.
                            self._resume_token = None
                            break
                        self._resume_token = change["_id"]
                        if (event := to_event(change)) is not None:
                            self._publish(event)
            except PyMongoError as error:
                logger.warning("change stream dropped, resuming: %s", error)
            finally:
                self._stream = None
            # Back off before resuming, unless we are stopping.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._retry)

    async def interrupt(self) -> None:
        """Drop the current stream (as a network failure would); ``run`` resumes it."""
        if self._stream is not None:
            await self._stream.close()

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
