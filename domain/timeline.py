"""One chronological list of everything a customer did with the company, newest first.

Entries are ordered by time (newest first), then by kind in ``TimelineKind`` order, then by id
(descending). Each kind is read from its own collection; the pages are merged here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from domain.alerts.models import Alert
from domain.crm.models import Case, Interaction, Opportunity, Transaction
from domain.customer_records import Ties
from domain.errors import InvalidInput
from domain.feedback.models import Feedback
from domain.paging import Page, Position, decode_cursor, encode_cursor

CURSOR_KIND = "timeline"

Record = Transaction | Interaction | Case | Feedback | Opportunity | Alert


class TimelineKind(StrEnum):
    """The kinds of record a timeline can show, in their tie-break order."""

    TRANSACTION = "TRANSACTION"
    INTERACTION = "INTERACTION"
    CASE = "CASE"
    FEEDBACK = "FEEDBACK"
    OPPORTUNITY = "OPPORTUNITY"
    ALERT = "ALERT"

    @property
    def rank(self) -> int:
        return list(TimelineKind).index(self)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One record on the timeline, with its kind and time."""

    kind: TimelineKind
    at: datetime
    record: Record

    @property
    def id(self) -> str:
        return self.record.id

    def sort_key(self) -> tuple[float, int, tuple[int, ...]]:
        # Newest first, then kind order, then id descending (ids are hex, so negate code points).
        return (-self.at.timestamp(), self.kind.rank, tuple(-ord(c) for c in self.id))

    def cursor(self) -> str:
        return encode_cursor(CURSOR_KIND, self.at.astimezone(UTC).isoformat(), self.kind.value, self.id)


@dataclass(frozen=True, slots=True)
class TimelineCursor:
    """A position on the timeline."""

    position: Position
    kind: TimelineKind

    @classmethod
    def decode(cls, cursor: str) -> TimelineCursor:
        at, kind, record_id = decode_cursor(CURSOR_KIND, cursor, parts=3)
        try:
            timeline_kind = TimelineKind(kind)
        except ValueError:
            raise InvalidInput("malformed cursor", field="after") from None
        return cls(Position.parse(at, record_id), timeline_kind)

    def ties_for(self, kind: TimelineKind) -> Ties:
        """How records of ``kind`` at exactly the cursor's time relate to it."""
        if kind.rank > self.kind.rank:
            return Ties.INCLUDE
        if kind.rank < self.kind.rank:
            return Ties.EXCLUDE
        return Ties.BY_ID


def time_of(record: Record) -> datetime:
    """When a record happened on the customer's timeline."""
    if isinstance(record, Case | Opportunity):
        return record.opened_at
    if isinstance(record, Alert):
        return record.raised_at
    return record.occurred_at


def merge(pages: Mapping[TimelineKind, Page[Record]], *, first: int) -> Page[TimelineEntry]:
    """The first ``first`` entries of the union of per-kind pages, each of which holds at least that many."""
    entries: list[TimelineEntry] = [
        TimelineEntry(kind, time_of(record), record) for kind, page in pages.items() for record in page.items
    ]
    entries.sort(key=TimelineEntry.sort_key)
    more_anywhere = len(entries) > first or any(page.has_next for page in pages.values())
    return Page(entries[:first], has_next=more_anywhere)


def selected_kinds(kinds: Iterable[TimelineKind] | None) -> Sequence[TimelineKind]:
    """The kinds to show: all of them unless the caller narrowed the list."""
    if kinds is None:
        return list(TimelineKind)
    chosen = list(dict.fromkeys(kinds))
    if not chosen:
        raise InvalidInput("kinds must name at least one kind", field="kinds")
    return chosen
