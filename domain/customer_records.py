"""Shared persistence for per-customer records (transactions, interactions, cases, feedback, opportunities).

Every such record is stored with ``customerId``, ``region`` and ``occurredAt`` and indexed by
``(customerId, occurredAt, _id)``, so a newest-first page for many customers is one indexed command.
Each collection also offers its reads as aggregation stages (``lookup`` and the ``*_stages`` helpers), with
the caller's row scope applied in the one place it is applied for direct reads, so a whole query can be
read in one pipeline.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from domain.errors import Conflict, NotFound
from domain.paging import Page, Position
from domain.scope import RowScope, narrowed
from domain.store import Database, Document, IndexSpec, Session

R = TypeVar("R")


class Versioned(Protocol):
    """A record changed under optimistic concurrency."""

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=Versioned)

NEWEST_FIRST = (("occurredAt", -1), ("_id", -1))


class Ties(Enum):
    """How records at exactly the boundary's time are treated."""

    BY_ID = "by_id"  # keyset: same time, smaller id comes after
    EXCLUDE = "exclude"  # none of them come after
    INCLUDE = "include"  # all of them come after


# What every record, a count and the latest record look like as stages over newest-first records.
EVERY_STAGES: tuple[Document, ...] = ({"$skip": 0},)
COUNT_STAGES: tuple[Document, ...] = ({"$group": {"_id": None, "n": {"$sum": 1}}},)
LATEST_STAGES: tuple[Document, ...] = ({"$limit": 1}, {"$project": {"_id": 0, "occurredAt": 1}})


def counted(rows: Sequence[Document]) -> int:
    """The count a ``COUNT_STAGES`` facet produced (no row when nothing was counted)."""
    return int(rows[0]["n"]) if rows else 0


def position_of(document: Document) -> Position:
    """A stored record's place in its newest-first list (its ``occurredAt`` is the time it sorts by)."""
    return Position(document["occurredAt"], document["_id"])


def latest_of(rows: Sequence[Document]) -> datetime | None:
    """The time a ``LATEST_STAGES`` facet found, if any."""
    return rows[0]["occurredAt"] if rows else None


def older_than(boundary: Position | None, ties: Ties = Ties.BY_ID) -> list[Document]:
    """Pipeline stages keeping the records that follow ``boundary`` in newest-first order."""
    if boundary is None:
        return []
    if ties is Ties.EXCLUDE:
        return [{"$match": {"occurredAt": {"$lt": boundary.at}}}]
    narrow: list[Document] = [{"$match": {"occurredAt": {"$lte": boundary.at}}}]
    if ties is Ties.INCLUDE:
        return narrow
    exact = {"$or": [{"occurredAt": {"$lt": boundary.at}}, {"_id": {"$lt": boundary.id}}]}
    return [*narrow, {"$match": exact}]


class CustomerRecords(ABC, Generic[R]):
    """Repository base for one per-customer collection; subclasses map documents to domain objects."""

    collection_name: ClassVar[str]
    extra_indexes: ClassVar[tuple[tuple[tuple[str, int], ...], ...]] = ()

    def __init__(self, db: Database, scope: RowScope | None = None) -> None:
        self._db = db
        self._collection = db[self.collection_name]
        self._scope = self.scope_filter(scope or RowScope.everything())

    @classmethod
    def scope_filter(cls, scope: RowScope) -> dict[str, Any]:
        """The filter that keeps this collection's rows in ``scope``."""
        return scope.record_filter()

    def _in_scope(self, query: dict[str, Any]) -> dict[str, Any]:
        """``query`` narrowed to the rows the caller may read."""
        return narrowed(query, self._scope)

    def lookup(self, into: str, stages: Sequence[Document], *, local_field: str = "_id") -> Document:
        """A ``$lookup`` stage: each document's records in scope (``local_field`` is their customer id),
        newest first, through ``stages``, into the array ``into``.

        The equality on ``customerId`` leads, so the ``(customerId, occurredAt, _id)`` index serves the
        sort, and on a cluster sharded by customer id each document's lookup goes to one shard.
        """
        return {
            "$lookup": {
                "from": self.collection_name,
                "localField": local_field,
                "foreignField": "customerId",
                "pipeline": [
                    *([{"$match": self._scope}] if self._scope else []),
                    {"$sort": dict(NEWEST_FIRST)},
                    *stages,
                ],
                "as": into,
            }
        }

    @staticmethod
    def page_stages(limit: int, after: Position | None = None, ties: Ties = Ties.BY_ID) -> list[Document]:
        """Stages over newest-first records keeping a page of ``limit`` after ``after``, and one more
        (which tells whether a next page exists)."""
        return [*older_than(after, ties), {"$limit": limit + 1}]

    def page_of(self, documents: Sequence[Document], limit: int) -> Page[R]:
        """The page of ``limit`` records among ``documents`` read by ``page_stages`` with a limit of at
        least ``limit`` (the same position)."""
        return Page([self.from_document(d) for d in documents[:limit]], has_next=len(documents) > limit)

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        """The indexes this repository's reads rely on."""
        base = (("customerId", 1), ("occurredAt", -1), ("_id", -1))
        return [IndexSpec(cls.collection_name, keys) for keys in (base, *cls.extra_indexes)]

    @staticmethod
    @abstractmethod
    def to_document(record: R) -> Document:
        """The stored form of ``record``."""

    @staticmethod
    @abstractmethod
    def from_document(document: Document) -> R:
        """The domain object stored as ``document``."""

    async def insert_many(self, records: Iterable[R], *, session: Session | None = None) -> None:
        """Store new records in one bulk write, inside ``session``'s transaction when given."""
        documents = [self.to_document(r) for r in records]
        if documents:
            await self._collection.insert_many(documents, ordered=False, session=session)

    async def insert(self, record: R, *, session: Session | None = None) -> None:
        """Store one new record, inside ``session``'s transaction when given."""
        await self._collection.insert_one(self.to_document(record), session=session)

    async def save_version(self, record: R, *, read_version: int, session: Session | None = None) -> None:
        """Store a changed record unless someone changed it since it was read at ``read_version``."""
        query = self._in_scope({"_id": self.to_document(record)["_id"], "version": read_version})
        result = await self._collection.replace_one(query, self.to_document(record), session=session)
        if result.matched_count == 0:
            raise Conflict("the record changed since it was read; reload it and try again")

    async def get_many(self, ids: Sequence[str]) -> dict[str, R]:
        """The records in scope with these ids, by id."""
        query = self._in_scope({"_id": {"$in": list(ids)}})
        return {d["_id"]: self.from_document(d) async for d in self._collection.find(query)}

    async def pages(
        self,
        customer_ids: Sequence[str],
        *,
        limit: int,
        after: Position | None = None,
        ties: Ties = Ties.BY_ID,
    ) -> dict[str, Page[R]]:
        """Newest-first pages of up to ``limit`` records for each customer, in one command."""
        pipeline: list[Document] = [
            {"$documents": [{"customerId": c} for c in dict.fromkeys(customer_ids)]},
            self.lookup("records", self.page_stages(limit, after, ties), local_field="customerId"),
        ]
        return {
            row["customerId"]: self.page_of(row["records"], limit)
            async for row in await self._db.aggregate(pipeline)
        }

    async def counts(self, customer_ids: Sequence[str]) -> dict[str, int]:
        """How many records each customer has (zero included), in one command."""
        return await self._count_by("customerId", customer_ids, self._in_scope({}))

    async def _count_by(self, field: str, keys: Sequence[str], where: dict[str, Any]) -> dict[str, int]:
        """How many records matching ``where`` have each of ``keys`` in ``field`` (zero included)."""
        pipeline = [
            {"$match": narrowed({field: {"$in": list(keys)}}, where)},
            {"$group": {"_id": f"${field}", "n": {"$sum": 1}}},
        ]
        found = {row["_id"]: int(row["n"]) async for row in await self._collection.aggregate(pipeline)}
        return {key: found.get(key, 0) for key in keys}

    async def latest(self, customer_ids: Sequence[str]) -> dict[str, datetime]:
        """When each customer's most recent record happened (customers without records are absent)."""
        pipeline = [
            {"$match": self._in_scope({"customerId": {"$in": list(customer_ids)}})},
            {"$group": {"_id": "$customerId", "at": {"$max": "$occurredAt"}}},
        ]
        return {row["_id"]: row["at"] async for row in await self._collection.aggregate(pipeline)}


async def read_version(repository: CustomerRecords[V], record_id: str, version: int, *, noun: str) -> V:
    """The record in scope, as it is at ``version``: missing is NOT_FOUND, changed since is a CONFLICT."""
    found = (await repository.get_many([record_id])).get(record_id)
    if found is None:
        raise NotFound(f"no such {noun}", field="id")
    if found.version != version:
        raise Conflict(f"the {noun} is at version {found.version}, not {version}; reload it")
    return found
