"""The per-customer record kinds in one table: their loaders, GraphQL view and cursor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from domain.customer_records import position_of
from domain.paging import Position
from domain.store import Document
from domain.timeline import Record, TimelineKind, time_of
from resolvers.alerts.types import Alert
from resolvers.crm.types import Case, Interaction, Opportunity, Transaction
from resolvers.feedback.types import Feedback
from resolvers.loaders import Loaders, RecordLoaders

TimelineItem = Annotated[
    Transaction | Interaction | Case | Feedback | Opportunity | Alert,
    strawberry.union("TimelineItem", description="Any record that can appear on a customer's timeline."),
]


@dataclass(frozen=True, slots=True)
class RecordKind:
    """How one kind of per-customer record is loaded, shown and paged."""

    kind: TimelineKind
    type_name: str
    loaders: Callable[[Loaders], RecordLoaders[Any]]
    view: Callable[[Any], Any]

    def cursor(self, record: Record) -> str:
        return Position(time_of(record), record.id).cursor(self.type_name)

    def document_cursor(self, document: Document) -> str:
        """The cursor of a stored record, the same as ``cursor`` of its domain record."""
        return position_of(document).cursor(self.type_name)

    def position(self, after: str | None) -> Position | None:
        return Position.from_cursor(self.type_name, after) if after is not None else None


RECORD_KINDS: dict[TimelineKind, RecordKind] = {
    TimelineKind.TRANSACTION: RecordKind(
        TimelineKind.TRANSACTION, "Transaction", lambda ls: ls.transactions, Transaction.of
    ),
    TimelineKind.INTERACTION: RecordKind(
        TimelineKind.INTERACTION, "Interaction", lambda ls: ls.interactions, Interaction.of
    ),
    TimelineKind.CASE: RecordKind(TimelineKind.CASE, "Case", lambda ls: ls.cases, Case.of),
    TimelineKind.FEEDBACK: RecordKind(TimelineKind.FEEDBACK, "Feedback", lambda ls: ls.feedback, Feedback.of),
    TimelineKind.OPPORTUNITY: RecordKind(
        TimelineKind.OPPORTUNITY, "Opportunity", lambda ls: ls.opportunities, Opportunity.of
    ),
    TimelineKind.ALERT: RecordKind(TimelineKind.ALERT, "Alert", lambda ls: ls.alerts, Alert.of),
}
