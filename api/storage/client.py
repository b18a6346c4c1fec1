"""The database connection: one async client per application, and the collections and indexes it needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure
from pymongo.monitoring import _EventListener

from domain.lists.service import ensure_default_lists
from domain.repositories import Repositories, all_collections, all_indexes, retired_indexes
from domain.store import Document, DuplicateKey, Session

T = TypeVar("T")
DUPLICATE_KEY = 11000
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
        try:
            async with self._client.start_session() as session:
                result: T = await session.with_transaction(work)
                return result
        except DuplicateKeyError as error:
            raise DuplicateKey(str(error)) from None
        except BulkWriteError as error:
            # insert_many reports a duplicate key among its write errors (code 11000).
            if any(e.get("code") == DUPLICATE_KEY for e in error.details.get("writeErrors", ())):
                raise DuplicateKey(str(error)) from None
            raise
