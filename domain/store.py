"""The few database operations the repositories use, as protocols the driver's async objects satisfy.

Keeping the driver behind these protocols lets the domain stay free of driver imports while the
application hands real collections in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

Document = dict[str, Any]
Filter = Mapping[str, Any]
SortSpec = Sequence[tuple[str, int]]

# How many keys one read of documents by key names in its ``$in``, when a batch names more. The embedded
# database compares every document an index finds with each value of the ``$in`` (and checks each value's
# type), so one read costs it the documents times the keys: a read of 130 standings by id, 16-26 ms of its
# CPU; the same in reads of 32, 8-11 ms (measured alone). MongoDB looks the values up; it only pays the round
# trips.
KEYS_PER_READ = 32


async def read_by_chunks(
    keys: Iterable[K], read: Callable[[list[K]], Awaitable[Mapping[K, V]]]
) -> dict[K, V]:
    """What ``read`` finds by key for ``keys`` (duplicates dropped), read ``KEYS_PER_READ`` keys at a time,
    one read after the other (run together, they cost the embedded database more: its threads contend)."""
    unique = list(dict.fromkeys(keys))
    found: dict[K, V] = {}
    for start in range(0, len(unique), KEYS_PER_READ):
        found.update(await read(unique[start : start + KEYS_PER_READ]))
    return found


class Cursor(Protocol):
    """An async stream of documents."""

    def __aiter__(self) -> AsyncIterator[Document]: ...

    async def to_list(self, length: int | None = None) -> list[Document]: ...


class FindCursor(Cursor, Protocol):
    """The cursor of a query, which can still be sorted and limited."""

    def sort(self, *args: Any, **kwargs: Any) -> FindCursor: ...

    def limit(self, limit: int) -> FindCursor: ...


class Collection(Protocol):
    """One collection of documents."""

    @property
    def name(self) -> str: ...

    @property
    def full_name(self) -> str: ...  # the database's name, a dot, the collection's

    def find(self, *args: Any, **kwargs: Any) -> FindCursor: ...

    async def find_one(self, *args: Any, **kwargs: Any) -> Document | None: ...

    async def aggregate(self, *args: Any, **kwargs: Any) -> Cursor: ...

    async def insert_many(self, documents: Iterable[Document], *args: Any, **kwargs: Any) -> object: ...

    async def insert_one(self, document: Document, *args: Any, **kwargs: Any) -> object: ...

    async def update_one(self, *args: Any, **kwargs: Any) -> WriteResult: ...

    async def replace_one(self, *args: Any, **kwargs: Any) -> WriteResult: ...

    async def delete_many(self, *args: Any, **kwargs: Any) -> object: ...

    async def delete_one(self, *args: Any, **kwargs: Any) -> DeleteResult: ...

    async def update_many(self, *args: Any, **kwargs: Any) -> WriteResult: ...


class WriteResult(Protocol):
    """How many documents an update matched, and the id of the one an upsert inserted (if it did)."""

    @property
    def matched_count(self) -> int: ...

    @property
    def upserted_id(self) -> Any: ...


class DeleteResult(Protocol):
    """How many documents a delete removed."""

    @property
    def deleted_count(self) -> int: ...


class Database(Protocol):
    """A database: named collections and database-level aggregation."""

    def __getitem__(self, name: str) -> Collection: ...

    async def aggregate(self, *args: Any, **kwargs: Any) -> Cursor: ...

    async def command(self, *args: Any, **kwargs: Any) -> Document: ...


class Session(Protocol):
    """A database session carrying one transaction; repositories pass it through to the driver."""


class UnitOfWork(Protocol):
    """Runs work in one transaction: everything it writes is stored, or nothing is."""

    async def run(self, work: Callable[[Session], Awaitable[T]]) -> T: ...


class DuplicateKey(Exception):
    """A write broke a unique index (the driver's error, translated by the unit of work)."""


class OutOfTime(Exception):
    """A transaction the deadline its caller runs under stopped (the driver's error, translated by the unit
    of work).

    ``maybe_stored`` is False when the deadline fell while the work was running: the transaction was rolled
    back and nothing of it is stored. A deadline falling once the work was done does not stop it: the unit
    of work commits it anyway. ``maybe_stored`` is True when that commit failed too, or when a commit was
    sent but its answer lost: it may have been stored, and only reading again can tell.
    """

    def __init__(self, message: str, *, maybe_stored: bool) -> None:
        super().__init__(message)
        self.maybe_stored = maybe_stored


DUPLICATE_KEY_CODE = 11000


def only_already_stored(error: Exception) -> bool:
    """Whether an unordered insert failed on nothing but documents already there under their own ``_id``.

    The driver retries a write whose reply was lost on a dropped connection; a server that does not
    recognise the retry (SecantusDB) refuses the documents the first attempt stored as duplicate ``_id``s.
    With ``_id``s made fresh for each document, that means the write is done.
    """
    details = getattr(error, "details", None)
    if not isinstance(details, dict) or details.get("writeConcernErrors"):
        return False
    errors = details.get("writeErrors") or []
    return bool(errors) and all(
        e.get("code") == DUPLICATE_KEY_CODE and e.get("keyPattern") == {"_id": 1} for e in errors
    )


class WriteFailed(Exception):
    """A statement of a batched write failed (other than on a duplicate key)."""


async def write_all(
    db: Database, verb: str, collection: str, statements: Sequence[Document], *, session: Session | None
) -> Document:
    """Many ``update`` (``{"q", "u", "upsert"}``) or ``delete`` (``{"q", "limit"}``) statements in one
    command, unordered: one round trip instead of one per document. Its reply: ``n`` (matched or deleted),
    ``upserted`` (the statements' indexes that inserted). A failed statement raises, as a single write would.
    """
    field = {"update": "updates", "delete": "deletes"}[verb]
    reply = await db.command({verb: collection, field: list(statements), "ordered": False}, session=session)
    if errors := reply.get("writeErrors"):
        if any(e.get("code") == DUPLICATE_KEY_CODE for e in errors):
            raise DuplicateKey(str(errors[0]))
        raise WriteFailed(str(errors[0]))
    return reply


@dataclass(frozen=True, slots=True)
class VersionedWrite:
    """A document written over the version read (``read_version`` None: it was absent), or removed when
    there is no ``document``. ``document`` carries its new version."""

    id: str
    read_version: int | None
    document: Document | None

    @classmethod
    def over(
        cls, id: str, read_version: int | None, document_at: Callable[[int], Document]
    ) -> VersionedWrite:
        """The write of ``document_at(version)`` over the version read, at the next version (1 if new)."""
        return cls(id, read_version, document_at((read_version or 0) + 1))

    @classmethod
    def removal(cls, id: str, read_version: int) -> VersionedWrite:
        """The removal of the document at the version read."""
        return cls(id, read_version, None)


async def write_versioned(
    db: Database, collection: str, writes: Sequence[VersionedWrite], *, session: Session
) -> bool:
    """``writes`` in ``session``'s transaction, in a command or two (and a read per ``KEYS_PER_READ``
    documents); False, with nothing written, when a document was inserted, changed or removed since its
    version was read.

    The versions are checked by reads in the transaction, and the documents written by id: a change
    committed after those reads makes the transaction's writes conflict, and the transaction is run again
    (as a write conditional on the version would have matched nothing). Written by id, a replacement costs
    the embedded database a third less than one whose filter names the version too: it matches every
    field of a filter against each index of the collection, statement by statement."""
    if not writes:
        return True

    async def versions(ids: list[Any]) -> dict[Any, Any]:
        found = db[collection].find({"_id": {"$in": ids}}, {"version": 1}, session=session)
        return {d["_id"]: d.get("version") async for d in found}

    read = await read_by_chunks((w.id for w in writes), versions)
    if any(read.get(w.id) != w.read_version for w in writes):
        return False
    replaced = [
        {"q": {"_id": w.id}, "u": w.document, "upsert": True} for w in writes if w.document is not None
    ]
    removed = [{"q": {"_id": w.id}, "limit": 1} for w in writes if w.document is None]
    if replaced:
        await write_all(db, "update", collection, replaced, session=session)
    if removed:
        await write_all(db, "delete", collection, removed, session=session)
    return True


async def backfill(
    collection: Collection,
    stale: Filter,
    fields: Mapping[str, int],
    rewrite: Callable[[Document], tuple[Filter, Document]],
    *,
    batch: int,
) -> int:
    """Bring up to date the documents ``stale`` finds (stored by an older version), ``batch`` at a time.

    ``rewrite`` gives each document read (its ``fields``) the fields its update was computed from, as they
    were read, and the fields to set: a document changed since is skipped, its change having stored what
    is current. Idempotent, and one indexed query when nothing is stale; a batch of nothing but documents
    changed meanwhile (by writers of the older form) ends it. How many documents it updated."""

    async def update(document: Document) -> int:
        read, changes = rewrite(document)
        condition = {"_id": document["_id"], **read, **stale}
        return (await collection.update_one(condition, {"$set": changes})).matched_count

    updated = 0
    while True:
        documents = await collection.find(stale, dict(fields)).limit(batch).to_list()
        written = sum(await asyncio.gather(*(update(d) for d in documents)))
        updated += written
        if len(documents) < batch or not written:
            return updated


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """An index a repository's queries rely on; created idempotently at start-up."""

    collection: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    sparse: bool = False

    @property
    def name(self) -> str:
        return "_".join(f"{field}_{direction}" for field, direction in self.keys)
