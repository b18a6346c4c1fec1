"""The database connection: one async client per application, and the collections and indexes it needs."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import pymongo
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError
from pymongo.monitoring import _EventListener

from domain.lists.service import ensure_default_lists
from domain.repositories import Repositories, all_collections, all_indexes, retired_indexes
from domain.store import Document, DuplicateKey, OutOfTime, Session

T = TypeVar("T")
DUPLICATE_KEY = 11000
# How long ending a transaction past its caller's deadline may take (see MongoUnitOfWork.run).
END_TRANSACTION_SECONDS = 5.0
NAMESPACE_EXISTS = 48

Client = AsyncMongoClient[Document]
# The driver's database: what the domain sees through its ``domain.store.Database`` protocol, plus what only
# the server's own plumbing uses (change streams).
MongoDatabase = AsyncDatabase[Document]
MongoCollection = AsyncCollection[Document]


def create_client(
    uri: str, *, server_selection_timeout_ms: int = 5000, event_listeners: Sequence[_EventListener] = ()
) -> Client:
    """A client that returns timezone-aware datetimes (UTC), as the domain expects."""
    return AsyncMongoClient(
        uri,
        event_listeners=list(event_listeners),
        tz_aware=True,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        appname="customer360",
    )


async def ensure_schema(db: MongoDatabase) -> None:
    """Create every collection and index that is missing (existing ones are left as they are) and drop the
    retired indexes that are still there.

    Every collection a transaction writes must exist before it: creating one inside a transaction can
    deadlock the embedded database against concurrent writers. An index creates its collection; the
    collections without one of their own are created here."""
    existing = set(await db.list_collection_names())
    for name in all_collections():
        if name not in existing:
            try:
                await db.create_collection(name, check_exists=False)
            except OperationFailure as error:
                if error.code != NAMESPACE_EXISTS:  # else another process created it meanwhile
                    raise
    for spec in all_indexes():
        await db[spec.collection].create_index(
            list(spec.keys), name=spec.name, unique=spec.unique, sparse=spec.sparse
        )
    retired = retired_indexes()
    for collection in {spec.collection for spec in retired}:
        existing_indexes = await db[collection].index_information()  # once per collection, not per index
        for spec in retired:
            if spec.collection == collection and spec.name in existing_indexes:
                await db[collection].drop_index(spec.name)


async def prepare_database(db: MongoDatabase, *, now: datetime | None = None) -> None:
    """Make a database ready for use, idempotently: its collections and indexes, and every managed list with
    its defaults."""
    await ensure_schema(db)
    uow = MongoUnitOfWork(db.client)
    await ensure_default_lists(Repositories.on(db), uow, now=now or datetime.now(UTC))


class MongoUnitOfWork:
    """Transactions on a replica set or sharded cluster, retried on transient errors by the driver."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def run(self, work: Callable[[Session], Awaitable[T]]) -> T:
        """``work`` in one transaction, retried by the driver on transient errors (a write conflict).

        When the caller's deadline (``pymongo.timeout``) falls, the transaction is not left open on the
        server, holding what it wrote until its session is used again: the driver refuses every command
        past the deadline, its own abort or commit included, so they are sent here under a bound of
        their own. Work the deadline stopped is rolled back (``OutOfTime``); work it stopped at the commit
        is committed. It may have been stored (``maybe_stored``) when that commit fails too, or when a commit
        whose answer was lost was followed by the driver's own retry of the whole transaction.
        """
        async with self._client.start_session() as session:
            finished: list[T] = []  # the result of the attempt that ran last, once its work is done
            committed = False  # whether any attempt got as far as its commit

            async def tracked(session: AsyncClientSession) -> T:
                nonlocal committed
                finished.clear()  # the driver runs the work again after a transient error
                try:
                    result = await work(session)
                except PyMongoError as error:
                    if error.timeout and session.in_transaction:
                        await _past_the_deadline(session.abort_transaction())
                    raise
                finished.append(result)
                committed = True
                return result

            try:
                result: T = await session.with_transaction(tracked)
                return result
            except DuplicateKeyError as error:
                raise DuplicateKey(str(error)) from None
            except BulkWriteError as error:
                # insert_many reports a duplicate key among its write errors (code 11000).
                if any(e.get("code") == DUPLICATE_KEY for e in error.details.get("writeErrors", ())):
                    raise DuplicateKey(str(error)) from None
                raise
            except PyMongoError as error:
                if not error.timeout:
                    raise
                if not finished:
                    # An earlier attempt's commit may have been stored before the driver tried again.
                    raise OutOfTime(str(error), maybe_stored=committed) from error
                try:
                    # The driver may retry a commit whose outcome it does not know: stored once either way.
                    await _past_the_deadline(session.commit_transaction())
                except PyMongoError as failed:
                    raise OutOfTime(str(failed), maybe_stored=True) from error
                return finished[0]


async def _past_the_deadline(ending: Coroutine[Any, Any, None]) -> None:
    """Ends a transaction whose caller's deadline has passed, under a bound of its own.

    The driver keeps the deadline in context variables and only ever shortens it, so the command runs in a
    task with a fresh context (which also leaves it out of the caller's trace). A caller cancelled meanwhile
    (its request's time limit) does not stop it: the transaction is ended either way.
    """

    async def bounded() -> None:
        with pymongo.timeout(END_TRANSACTION_SECONDS):
            await ending

    task = asyncio.create_task(bounded(), context=contextvars.Context())
    _ending.add(task)
    task.add_done_callback(_ended)
    await asyncio.shield(task)


def _ended(task: asyncio.Task[None]) -> None:
    _ending.discard(task)
    if not task.cancelled():
        task.exception()  # a caller cancelled meanwhile does not read it: taken note of, not reported


# Transactions being ended past their deadline (the loop keeps only weak references to tasks).
_ending: set[asyncio.Task[None]] = set()
