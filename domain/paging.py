"""Keyset pagination: page sizes, opaque cursors and the positions they stand for."""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from domain.calendar import utc_instant
from domain.errors import InvalidInput

T = TypeVar("T")
R = TypeVar("R")  # what a read of a bounded page answers

MAX_PAGE_SIZE = 100


def check_page_size(first: int, *, maximum: int = MAX_PAGE_SIZE, field: str = "first") -> int:
    """The page size (``first``, or ``last`` paging backward) must lie in 1..maximum."""
    if not 1 <= first <= maximum:
        raise InvalidInput(f"{field} must be between 1 and {maximum}, got {first}", field=field)
    return first


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and whether more follow."""

    items: Sequence[T]
    has_next: bool


def encode_cursor(kind: str, *parts: str) -> str:
    """An opaque cursor for one position in one kind of list."""
    raw = "\x1f".join((kind, *parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, *, parts: int, field: str = "after") -> list[str]:
    """The parts of a cursor made by ``encode_cursor(kind, ...)``; anything else is invalid input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput("malformed cursor", field=field) from None
    fields = raw.split("\x1f")
    if fields[0] != kind or len(fields) != parts + 1:
        raise InvalidInput(f"cursor does not belong to this {kind} list", field=field)
    return fields[1:]


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A record's place in a newest-first list: its time, then its id (descending)."""

    at: datetime
    id: str

    def cursor(self, kind: str) -> str:
        return encode_cursor(kind, self.at.astimezone(UTC).isoformat(), self.id)

    @classmethod
    def from_cursor(cls, kind: str, cursor: str) -> Position:
        return cls.parse(*decode_cursor(kind, cursor, parts=2))

    @classmethod
    def parse(cls, at: str, record_id: str) -> Position:
        """The position a cursor names: its time must be an instant of the calendar, with a zone."""
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise InvalidInput("malformed cursor", field="after") from None
        return cls(utc_instant(moment, field="after"), record_id)


def keyset_page(
    query: Mapping[str, Any],
    field: str,
    *,
    limit: int,
    after: tuple[Any, Any] | None = None,
    descending: bool = False,
    until: Any | None = None,
) -> list[dict[str, Any]]:
    """The stages of a keyset page: up to ``limit`` documents of ``query`` in (``field``, ``_id``) order, both
    ascending or both descending, after the one at ``after`` (its ``field`` and its id) when given. The
    order and the position are worked out here together, so that they cannot disagree.

    ``query`` alone comes first, so a page after the first is read from the same index as the first;
    the position follows in a second stage (MongoDB merges the two). In one stage, the embedded database
    reads the whole collection for a filter with an ``$or`` in it, and for a range beside an ``$in``.

    ``until`` (ascending only) leaves out the documents whose ``field`` sorts after it, in a stage of its own
    before ``query``: the embedded database reads only that range of the index then, instead of every
    document ``query`` matches before sorting them (``PageEnds``)."""
    direction = -1 if descending else 1
    stages: list[dict[str, Any]] = []
    if until is not None:
        assert not descending, "a page read backward is not bounded"
        stages.append({"$match": {field: {"$lte": until}}})
    stages.append({"$match": dict(query)})
    if after is not None:
        boundary, last_id = after
        strict = "$lt" if descending else "$gt"
        ties = {field: boundary, "_id": {strict: last_id}}
        stages.append({"$match": {"$or": [{field: {strict: boundary}}, ties]}})
    return [*stages, {"$sort": {field: direction, "_id": direction}}, {"$limit": limit}]


class PageEnds:
    """Where pages of a keyset list last ended: the sort key of a whole page's last document, by page.

    A page read again is bounded by it (``keyset_page``'s ``until``), so a database that sorts every
    matching document before applying the limit reads only the documents up to that key. The bound never
    changes an answer: a bounded read that finds the whole page found the page, since every document it
    left out sorts after all of them; one that comes up short is read again without it
    (``BoundedPage``). Documents added, removed or renamed in between cost at most that second read.
    The most recent ``capacity`` pages are kept; the keys name the list, its filter and scope, the
    position and the size.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._ends: OrderedDict[Hashable, Any] = OrderedDict()
        self._capacity = capacity

    def page(
        self,
        key: Hashable | None,
        stages: Callable[[Any | None], list[dict[str, Any]]],
        *,
        limit: int,
        end_of: Callable[[Mapping[str, Any]], Any],
    ) -> BoundedPage:
        """The page ``key`` read by ``stages(until)`` (``until`` None: unbounded), ``limit`` documents at
        most; ``end_of`` is a document's sort key. A page without a key is never bounded."""
        whole = stages(None)
        end = self._ends.get(key) if key is not None else None
        if end is None:
            return BoundedPage(whole, whole, limit, self, key, end_of)
        self._ends.move_to_end(key)
        return BoundedPage(stages(end), whole, limit, self, key, end_of)

    def remember(self, key: Hashable | None, end: Any | None) -> None:
        """Where page ``key`` ended when read whole (None: it was short, so it is read unbounded)."""
        if key is None:
            return
        if end is None:
            self._ends.pop(key, None)
            return
        self._ends[key] = end
        self._ends.move_to_end(key)
        if len(self._ends) > self._capacity:
            self._ends.popitem(last=False)


@dataclass(frozen=True, slots=True)
class BoundedPage:
    """One page to read, bounded by where it last ended when that is known (``PageEnds``)."""

    stages: list[dict[str, Any]]  # what to read first: bounded, or ``whole``
    whole: list[dict[str, Any]]  # the page's unbounded stages
    limit: int
    _ends: PageEnds
    _key: Hashable | None
    _end_of: Callable[[Mapping[str, Any]], Any]

    async def read(
        self,
        run: Callable[[list[dict[str, Any]]], Awaitable[R]],
        documents_of: Callable[[R], Sequence[Mapping[str, Any]]],
    ) -> R:
        """What ``run`` answers for the page's stages, read again whole when a bounded read came up short;
        ``documents_of`` an answer is the page's documents (``limit`` of them when it is whole). Where the
        page ended is remembered for its next read."""
        answer = await run(self.stages)
        if self.stages is not self.whole and len(documents_of(answer)) < self.limit:
            answer = await run(self.whole)
        found = documents_of(answer)
        self._ends.remember(
            self._key, self._end_of(found[self.limit - 1]) if len(found) >= self.limit else None
        )
        return answer
