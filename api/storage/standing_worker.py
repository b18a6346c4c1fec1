"""The standing worker: recomputes the customers every write touches, from a MongoDB change stream.

Feedback, transactions, alerts, cases, opportunities, interactions and profiles change a customer's standing
and experience value, whoever writes them: the API, ``customer360 import``, or another system writing to the
database. The worker follows them all with one change stream (``CustomerChanges``, its only contact with
the stream) and recomputes each batch of customers it names (``domain.standing.service.refresh``), so the
write paths themselves do no standing work (the worker's commands still share the database with them).
A recomputation reads again only the kinds of record the changes name, and takes a response or an alert
inserted as its change carries it: the rest comes from the records stored with the standing.

- **One at a time.** Every server process runs a worker, but only the holder of a lease (a document,
  taken and renewed with conditional updates) works; when it stops or dies, another takes over once the
  lease lapses.
- **Resumable.** After each batch the holder stores the stream's resume token with its lease; a worker
  starting (after a restart or a handover) resumes from it, so no change is missed.
- **Idempotent.** A change seen twice recomputes its customers twice, and recomputing writes only what
  differs, so resuming from a slightly older token is harmless.
- **Gathered.** Once a change comes, the worker goes on gathering changes for a moment
  (``standing_gather_seconds``) and recomputes their customers together: one read of their histories and one
  transaction for the lot. Recomputed one by one, each customer costs about as many database commands as
  the write that named it, and the worker took a sixth of the closed loop's throughput.
- **From scratch when needed.** With no token (a new database), a token the database no longer has the
  history for, or standings stored in another layout than this version's (an upgrade), the worker notes
  where the stream stands, rebuilds every customer, then follows from there.

The time sweep (``sweep_standings_forever``) recomputes the standings that time alone changes, in every
process; conditional claims make each due standing recomputed by exactly one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from api.storage.client import MongoDatabase
from api.storage.stopping import stopped_within
from domain.alerts.repository import OPEN_STATES, AlertRepository
from domain.crm.repository import (
    CaseRepository,
    InteractionRepository,
    OpportunityRepository,
    TransactionRepository,
)
from domain.customer_history import Changes, Part
from domain.customers.repository import CustomerRepository
from domain.feedback.repository import FeedbackRepository
from domain.repositories import Repositories
from domain.standing.repository import StandingRepository
from domain.standing.service import Refreshed, rebuild, refresh, sweep_due
from domain.store import UnitOfWork, read_by_chunks

logger = logging.getLogger("customer360.standings")

STATE = "workerState"
LEASE_ID = "standings"
# The kind of record each watched collection holds (a profile is read with every recomputation).
PARTS = {
    TransactionRepository.collection_name: Part.PURCHASES,
    FeedbackRepository.collection_name: Part.ANSWERS,
    AlertRepository.collection_name: Part.ALERTS,
    CaseRepository.collection_name: Part.CASES,
    OpportunityRepository.collection_name: Part.OPPORTUNITIES,
    InteractionRepository.collection_name: Part.INTERACTIONS,
}
WATCHED = [CustomerRepository.collection_name, *PARTS]
# Of the records updated far more often than their customers' records change, the fields those records are
# made of: alerts are updated as they are routed, notified and escalated, but only their state decides
# whether they are open. An update that names none of them (its ``updateDescription`` says) is passed over.
RECORDED_FIELDS = {AlertRepository.collection_name: frozenset({"state", "customerId"})}
# What an inserted response or alert adds to a customer's records without a read.
CARRIED = ("_id", "customerId", "occurredAt", "nps", "csat", "touchpoint", "region", "segment", "state")
PIPELINE: list[dict[str, Any]] = [
    {"$match": {"ns.coll": {"$in": WATCHED}, "operationType": {"$in": ["insert", "update", "replace"]}}},
    # Only what names the customer travels, and what an insert adds: not the documents themselves. Inserts
    # and replacements carry their document; an update carries its key and what it changed only, and
    # ``CustomerChanges`` reads whose document it is.
    {
        "$project": {
            "ns": 1,
            "operationType": 1,
            "documentKey": 1,
            "wallTime": 1,  # when it was made: what a batch gathers (``next_batch``)
            **{f"fullDocument.{f}": 1 for f in CARRIED},
            "updateDescription.updatedFields": 1,
            "updateDescription.removedFields": 1,
        }
    },
]
# The shape of the stored standings: a worker that finds its token kept with another rebuilds them all.
LAYOUT = StandingRepository.LAYOUT
HISTORY_LOST = 286  # the server no longer has the changes a resume token points at


def holder_name() -> str:
    """A new worker, as the lease names its holder: its process, and itself among the process's workers.

    One process can run several apps, each with its worker (the bench serves its targets from one): named
    by the process alone, they all held the lease at once and rebuilt every standing side by side, into
    each other's duplicate keys."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def customer_of(change: dict[str, Any]) -> str | None:
    """The customer a change names by itself (None: none, as for anonymous feedback, or not by itself, as
    for an update of another collection than customers: see ``CustomerChanges``)."""
    if change["ns"]["coll"] == CustomerRepository.collection_name:
        return str(change["documentKey"]["_id"])
    customer = (change.get("fullDocument") or {}).get("customerId")
    return str(customer) if customer is not None else None


def changes_records(change: dict[str, Any]) -> bool:
    """Whether ``change`` can change its customer's records: any change but an update that names none of
    the fields its collection's records are made of (``RECORDED_FIELDS``; an update that does not say which
    fields it changed counts)."""
    fields = RECORDED_FIELDS.get(change["ns"]["coll"])
    description = change.get("updateDescription")
    if fields is None or change.get("operationType") != "update" or description is None:
        return True
    named = [*(description.get("updatedFields") or {}), *(description.get("removedFields") or ())]
    return any(name.split(".", 1)[0] in fields for name in named)


def _note(changed: Changes, change: dict[str, Any]) -> None:
    """Add what ``change`` did to its customer's records: an inserted response or open alert as it came,
    any other write of a kind of record as that kind to read again, a write of the profile as such (it is
    read in any case)."""
    collection, document = change["ns"]["coll"], change.get("fullDocument") or {}
    if collection == CustomerRepository.collection_name:
        changed.profile = True
        return
    part = PARTS.get(collection)
    if part is None:
        return
    if change.get("operationType") != "insert":
        changed.reread.add(part)
    elif part is Part.ANSWERS:
        answer = FeedbackRepository.answer_from(document)
        changed.answers[answer.id] = answer
    elif part is Part.ALERTS:
        if document.get("state") in OPEN_STATES:
            changed.opened_alerts.add(str(document["_id"]))
    else:
        changed.reread.add(part)


class CustomerChanges:
    """The customers the database's writes name, in batches: the one interface through which the worker
    follows the change stream (opened after a stored position, or where the stream stands now).

    The stream does not look up the documents of updates (``fullDocument: updateLookup``, whose cost on the
    embedded database ``api/storage/change_feed.py`` explains): the updated documents of the watched
    collections are read instead, one command per collection and batch (per ``KEYS_PER_READ`` documents).
    """

    def __init__(self, db: MongoDatabase, *, wait_ms: int, stopping: asyncio.Event | None = None) -> None:
        self._db = db
        self._wait_ms = wait_ms
        # Set, it ends a wait at once, and the batch read so far is dropped (its changes are read again
        # after the position last stored): a server stopping does not wait a gathering time out.
        self._stopping = stopping or asyncio.Event()
        self._stream: Any = None
        self.resumed = False  # whether it opened after the position asked for (else: where it stands now)

    @contextlib.asynccontextmanager
    async def opened(self, after: Any) -> AsyncIterator[CustomerChanges]:
        """Follow the changes after the position ``after``; from where the stream stands now when it is
        None or the database no longer has the history it points at."""
        options: dict[str, Any] = {"max_await_time_ms": self._wait_ms}
        stream = None
        if after is not None:
            try:
                stream = await self._db.watch(PIPELINE, resume_after=after, **options)
            except OperationFailure as error:
                if error.code != HISTORY_LOST:
                    raise
                logger.warning("the change history the worker stopped at is gone: rebuilding")
        self.resumed = stream is not None
        if stream is None:
            stream = await self._db.watch(PIPELINE, **options)
        async with stream:
            self._stream = stream
            yield self

    @property
    def alive(self) -> bool:
        return bool(self._stream is not None and self._stream.alive)

    @property
    def position(self) -> Any:
        """Where the stream stands: opening after it later sees every change from here on."""
        return self._stream.resume_token

    async def next_batch(self, most: int, *, gather_seconds: float = 0.0) -> dict[str, Changes]:
        """The customers named by the changes available now (up to ``most``; none after the wait), with
        what changed of their records. Once a change has come, those made within ``gather_seconds`` of it
        are gathered with it, and no more: under a steady flow of changes (on MongoDB a busy stream never
        reads empty) the batch still ends then. A change made longer ago than that (the worker is behind)
        is not waited for: the batch takes every change made until it is read, so that batches grow with
        the lag and the worker catches up under a steady load (one batch costs about as many commands as
        another, whatever its size).

        The gathering time is waited out before the changes made in it are read, together: read as they
        come, each cost a getMore of its own, since one returns as soon as a change is there (300
        closed-loop responses: 642 getMores in 8 batches). Which changes were made in it is told by their
        ``wallTime``, the database's clock for both ends; whether a change is older than the gathering time
        is told by comparing it with this process's clock, so a skew between the two changes only how much
        a batch gathers. A stream without it (MongoDB before 6.0) is read as the changes come, until the
        time is over on this process's clock.
        """
        customers: dict[str, Changes] = {}
        updated: dict[str, set[Any]] = defaultdict(set)  # collection: ids of documents updated
        loop = asyncio.get_running_loop()
        asked = loop.time()
        until: float | None = None  # when gathering ends, on this process's clock
        made_until: datetime | None = None  # the same, on the database's clock
        while len(customers) + sum(map(len, updated.values())) < most:
            change = await self._stream.try_next()
            if change is None:
                if until is None:
                    # The embedded database answers a waiting getMore at every write in the database, with
                    # nothing when the stream follows none of it: ask again when the wait is over, not at
                    # every write.
                    if await stopped_within(self._stopping, asked + self._wait_ms / 1000 - loop.time()):
                        return {}
                    break
                if loop.time() >= until:
                    break
                continue
            if changes_records(change):
                if (customer := customer_of(change)) is not None:
                    _note(customers.setdefault(customer, Changes()), change)
                elif change.get("operationType") == "update":
                    updated[change["ns"]["coll"]].add(change["documentKey"]["_id"])
            if not gather_seconds:
                continue
            made = change.get("wallTime")
            if until is None:
                until = loop.time() + gather_seconds
                if made is not None:
                    made_until = made + timedelta(seconds=gather_seconds)
                    # Behind (the change was made longer ago than the gathering time): no wait, and the
                    # batch takes every change made until now. A worker that waited and took a gathering
                    # time's worth fell further behind by its recomputation's time at every batch.
                    now = datetime.now(UTC)
                    wait = min((made_until - now).total_seconds(), gather_seconds)
                    if made_until > now and await stopped_within(self._stopping, wait):
                        return {}
                    made_until = max(made_until, now)
                continue
            # Made after the gathering time: on the database's clock when the changes tell it.
            if made > made_until if made_until is not None and made is not None else loop.time() >= until:
                break
        for collection, ids in updated.items():
            part = PARTS.get(collection)
            for customer in (await read_by_chunks(ids, partial(self._customers_of, collection))).values():
                changed = customers.setdefault(str(customer), Changes())
                if part is not None:
                    changed.reread.add(part)
        return customers

    async def _customers_of(self, collection: str, ids: list[Any]) -> dict[Any, Any]:
        """The customer each of these documents of ``collection`` names, by document id (those naming none
        are absent)."""
        found = self._db[collection].find({"_id": {"$in": ids}}, {"customerId": 1})
        return {d["_id"]: d["customerId"] async for d in found if d.get("customerId") is not None}


class Lease:
    """Who may work: one holder at a time, until its lease lapses unless renewed."""

    def __init__(self, db: MongoDatabase, *, holder: str, seconds: float) -> None:
        self._state = db[STATE]
        self.holder = holder
        self._seconds = seconds

    async def take(self) -> bool:
        """Take (or keep) the lease: true when this holder has it now."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=self._seconds)
        result = await self._state.update_one(
            # Lapsed at ``until`` itself: the database keeps milliseconds, so a release and a take within
            # the same millisecond store and ask the same instant.
            {"_id": LEASE_ID, "$or": [{"holder": self.holder}, {"until": {"$lte": now}}]},
            {"$set": {"holder": self.holder, "until": until}},
        )
        if result.matched_count == 1:
            return True
        try:
            await self._state.insert_one(
                {"_id": LEASE_ID, "holder": self.holder, "until": until, "token": None}
            )
        except DuplicateKeyError:
            return False
        return True

    async def token(self) -> Any:
        """Where the stream stood when the stored standings were last brought up to date; None when they
        never were, or were stored in another layout than this version's (they are rebuilt then)."""
        state = await self._state.find_one({"_id": LEASE_ID}) or {}
        return state.get("token") if state.get("layout") == LAYOUT else None

    async def keep(self, token: Any) -> bool:
        """Store where the stream stands and renew the lease, if still held: true when it is."""
        until = datetime.now(UTC) + timedelta(seconds=self._seconds)
        result = await self._state.update_one(
            {"_id": LEASE_ID, "holder": self.holder},
            {"$set": {"token": token, "until": until, "layout": LAYOUT}},
        )
        return result.matched_count == 1

    async def seize(self) -> None:
        """Take the lease whoever holds it (a rebuild): the holder notices at its next renewal and stops."""
        until = datetime.now(UTC) + timedelta(seconds=self._seconds)
        await self._state.update_one(
            {"_id": LEASE_ID}, {"$set": {"holder": self.holder, "until": until}}, upsert=True
        )

    async def release(self) -> None:
        """Let another process take over at once."""
        await self._state.update_one(
            {"_id": LEASE_ID, "holder": self.holder}, {"$set": {"until": datetime.now(UTC)}}
        )


async def current_token(db: MongoDatabase) -> Any:
    """Where the change stream stands now: a worker resuming from it sees every later change."""
    async with CustomerChanges(db, wait_ms=0).opened(None) as changes:
        return changes.position


async def rebuild_under_lease(
    db: MongoDatabase,
    repos: Repositories,
    *,
    holder: str,
    settle_seconds: float = 0.0,
    lease_seconds: float = 15.0,
    progress: Callable[[int], None] | None = None,
) -> Refreshed:
    """Rebuild every standing and observation while holding the worker's lease, then leave the lease free
    with the stream's position from before the rebuild: a worker takes over from there, so a change made
    while rebuilding is recomputed again. ``settle_seconds`` lets a running worker finish its batch first.
    """
    lease = Lease(db, holder=holder, seconds=lease_seconds)
    await lease.seize()
    await asyncio.sleep(settle_seconds)
    start = await current_token(db)

    rebuilt = asyncio.Event()

    async def keep() -> None:
        while not await stopped_within(rebuilt, lease_seconds / 3):
            await lease.seize()

    keeping = asyncio.create_task(keep())
    try:
        done = await rebuild(repos, now=datetime.now(UTC), progress=progress)
    finally:
        rebuilt.set()
        await keeping
    await lease.keep(start)
    await lease.release()
    return done


class StandingWorker:
    """Follows the changes while it holds the lease, recomputing the customers they name."""

    def __init__(
        self,
        db: MongoDatabase,
        repos: Repositories,
        uow: UnitOfWork,
        *,
        stopping: asyncio.Event,
        holder: str | None = None,
        lease_seconds: float = 15.0,
        poll_ms: int = 500,
        batch: int = 500,
        gather_seconds: float = 0.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._db = db
        self._repos = repos
        self._uow = uow
        self._stopping = stopping
        self.lease = Lease(db, holder=holder or holder_name(), seconds=lease_seconds)
        self._lease_seconds = lease_seconds
        self._poll_ms = poll_ms
        self._batch = batch
        self._gather_seconds = gather_seconds
        self._clock = clock
        self.recomputed = 0  # customers recomputed by this worker (for tests and logs)
        self.batches = 0  # the batches they came in

    async def run(self) -> None:
        """Work whenever this process holds the lease, until ``stopping`` is set."""
        while not self._stopping.is_set():
            try:
                if await self.lease.take():
                    await self._follow()
            except PyMongoError as error:
                logger.warning("standing worker interrupted, resuming: %s", error)
            except Exception:  # a failed batch is retried from the stored token; the loop must not die
                logger.exception("standing worker failed, resuming")
            await self._pause(self._lease_seconds / 3)
        with contextlib.suppress(PyMongoError):
            await self.lease.release()

    async def _follow(self) -> None:
        lost, done = asyncio.Event(), asyncio.Event()
        keeping = asyncio.create_task(self._keep_lease(lost, done), name="standing-lease")
        try:
            await self._follow_while(lost)
        finally:
            # Ended by an event, not cancelled: a cancellation lost in the driver would leave it running.
            done.set()
            await keeping

    async def _keep_lease(self, lost: asyncio.Event, done: asyncio.Event) -> None:
        """Renew the lease while working (a rebuild can take minutes); note when another process took it."""
        while not lost.is_set() and not await stopped_within(done, self._lease_seconds / 3):
            with contextlib.suppress(PyMongoError):
                if not await self.lease.take():
                    lost.set()

    async def _follow_while(self, lost: asyncio.Event) -> None:
        changes = CustomerChanges(self._db, wait_ms=self._poll_ms, stopping=self._stopping)
        async with changes.opened(await self.lease.token()):
            if not changes.resumed:
                # Changes from here on are followed; what came before is rebuilt from scratch.
                start = changes.position
                done = await rebuild(self._repos, now=self._clock())
                logger.info("rebuilt the standings of %d customers", done.customers)
                if not await self.lease.keep(start):
                    return
            while changes.alive and not self._stopping.is_set() and not lost.is_set():
                customers = await changes.next_batch(self._batch, gather_seconds=self._gather_seconds)
                if customers:
                    done = await refresh(
                        self._repos, self._uow, sorted(customers), now=self._clock(), changes=customers
                    )
                    self.recomputed += done.customers
                    self.batches += 1
                    if not await self.lease.keep(changes.position):
                        return  # another process took over

    async def _pause(self, seconds: float) -> None:
        await stopped_within(self._stopping, seconds)


async def sweep_standings_forever(
    repos: Repositories, uow: UnitOfWork, *, every_seconds: float, stopping: asyncio.Event
) -> None:
    """Recompute the standings time alone changed, now and then every ``every_seconds``, until stopped."""
    while not stopping.is_set():
        try:
            swept = await sweep_due(repos, uow, now=datetime.now(UTC))
            if swept:
                logger.info("recomputed %d standings that time changed", swept)
        except Exception:  # a failed sweep is retried on the next round; the loop must not die
            logger.exception("standing sweep failed")
        await stopped_within(stopping, every_seconds)
