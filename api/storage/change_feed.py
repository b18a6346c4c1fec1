"""The change feed: one MongoDB change stream per server process, fanned out to its subscribers.

Every process watches the database itself, so an alert written through one process reaches subscribers
connected to any other. After a dropped stream the feed resumes from the last event it saw, so none is lost.
While nothing changes, one getMore waits on the server (up to ``AWAIT_MS``): the feed sends nothing and
spends no CPU meanwhile, and a change is delivered the moment it is committed. Stopping does not wait for it.

A process follows the stream only while it has subscribers, and for ``IDLE_SECONDS`` after the last one
leaves (a client reconnecting finds it still open). A stream reads every write in the database, whoever
makes it: on MongoDB every stream reads the oplog, and on the embedded database every write costs each
open stream. A process that serves only queries and mutations, or one whose subscribers all went, follows
nothing. A subscriber counts (``subscribers``) from the moment the stream it will be told through is open:
it is told every change committed from then on.

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
# How long the stream stays open after the last subscriber leaves.
IDLE_SECONDS = 30.0


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
    """Watches alerts and feedback while someone subscribes, and hands every event to each one's queue."""

    def __init__(
        self,
        db: MongoDatabase,
        *,
        stopping: asyncio.Event,
        retry_seconds: float = 0.5,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._db = db
        self._retry = retry_seconds
        self._idle_seconds = idle_seconds
        self._stopping = stopping
        self._queues: set[asyncio.Queue[Event]] = set()
        self._resume_token: Any = None
        self._waiting: asyncio.Future[Any] | None = None  # the getMore in flight
        # Set while the stream should be open: from a subscription until the last one has been gone a while.
        self._wanted = asyncio.Event()
        self._following = asyncio.Event()  # a stream was opened and nothing has been missed since
        self._vacated = asyncio.Event()  # set while nobody subscribes, since ``_vacated_at``
        self._vacated_at = 0.0

    @property
    def subscribers(self) -> int:
        """The subscribers told of every change from now on (none before the stream is open)."""
        return len(self._queues) if self._following.is_set() else 0

    @property
    def following(self) -> bool:
        """Whether the feed follows the stream (it does while anyone subscribes, and a while after)."""
        return self._following.is_set()

    async def run(self) -> None:
        """Until ``stopping`` is set: while wanted, watch, resuming after every failure from the last event
        seen; when no longer wanted, close the stream and wait for a subscriber."""
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                wanted = asyncio.ensure_future(self._wanted.wait())
                await asyncio.wait({wanted, stopped}, return_when=asyncio.FIRST_COMPLETED)
                wanted.cancel()
                if self._stopping.is_set():
                    break
                try:
                    async with await self._db.watch(
                        PIPELINE,
                        resume_after=self._resume_token,
                        max_await_time_ms=AWAIT_MS,
                    ) as stream:
                        self._following.set()
                        await self._follow(stream, stopped)
                except PyMongoError as error:
                    logger.warning("change stream dropped, resuming: %s", error)
                if not self._wanted.is_set():
                    # Closed for want of subscribers: the next stream starts afresh, when one comes.
                    self._following.clear()
                    self._resume_token = None
                    continue
                # Back off before resuming, unless we are stopping.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(stopped), timeout=self._retry)
        finally:
            stopped.cancel()
            self._following.clear()

    async def _follow(self, stream: Any, stopped: asyncio.Future[Any]) -> None:
        """Publish the stream's changes until it ends, is interrupted, is no longer wanted or the feed
        stops."""
        unwanted = asyncio.ensure_future(self._unwanted())
        try:
            while stream.alive and not self._stopping.is_set():
                waiting = self._waiting = asyncio.ensure_future(stream.try_next())
                try:
                    await asyncio.wait({waiting, stopped, unwanted}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    self._waiting = None
                if not waiting.done():  # stopping or unwanted: the getMore waiting on the server is abandoned
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
        finally:
            unwanted.cancel()

    async def _unwanted(self) -> None:
        """Returns once nobody has subscribed for ``idle_seconds``, the feed no longer wanted."""
        loop = asyncio.get_running_loop()
        while True:
            await self._vacated.wait()
            remaining = self._vacated_at + self._idle_seconds - loop.time()
            if remaining <= 0:
                self._wanted.clear()
                return
            await asyncio.sleep(remaining)

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
        self._vacated.clear()
        self._wanted.set()
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)
            if not self._queues:
                self._vacated_at = asyncio.get_running_loop().time()
                self._vacated.set()
