"""The few database operations the repositories use, as protocols the driver's async objects satisfy.

Keeping the driver behind these protocols lets the domain stay free of driver imports while the
application hands real collections in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Document = dict[str, Any]
Filter = Mapping[str, Any]
SortSpec = Sequence[tuple[str, int]]


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

    def find(self, *args: Any, **kwargs: Any) -> FindCursor: ...

    async def find_one(self, *args: Any, **kwargs: Any) -> Document | None: ...

    async def aggregate(self, *args: Any, **kwargs: Any) -> Cursor: ...

    async def insert_many(self, documents: Iterable[Document], *args: Any, **kwargs: Any) -> object: ...


class Database(Protocol):
    """A database: named collections and database-level aggregation."""

    def __getitem__(self, name: str) -> Collection: ...

    async def aggregate(self, *args: Any, **kwargs: Any) -> Cursor: ...


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """An index a repository's queries rely on; created idempotently at start-up."""

    collection: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False

    @property
    def name(self) -> str:
        return "_".join(f"{field}_{direction}" for field, direction in self.keys)
