"""Connection types of the customer graph and the resolver of a customer's record list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from domain.timeline import TimelineKind
from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.crm.types import Case, Interaction, Opportunity, Transaction
from resolvers.feedback.types import Feedback
from resolvers.loaders import PageKey
from resolvers.pagination import AfterArg, CountedConnection, FirstArg, PageInfo, build_edges, page_size
from resolvers.record_kinds import RECORD_KINDS, TimelineItem

if TYPE_CHECKING:
    from resolvers.customers.types import Customer


@strawberry.type(description="A page of a customer's transactions, newest first.")
class TransactionConnection(CountedConnection[Transaction]):
    pass


@strawberry.type(description="A page of a customer's interactions, newest first.")
class InteractionConnection(CountedConnection[Interaction]):
    pass


@strawberry.type(description="A page of a customer's cases, newest first.")
class CaseConnection(CountedConnection[Case]):
    pass


@strawberry.type(description="A page of a customer's feedback, newest first.")
class FeedbackConnection(CountedConnection[Feedback]):
    pass


@strawberry.type(description="A page of a customer's opportunities, newest first.")
class OpportunityConnection(CountedConnection[Opportunity]):
    pass


@strawberry.type(description="A page of a customer's alerts, newest first.")
class CustomerAlertConnection(CountedConnection[Alert]):
    pass


@strawberry.type(description="One entry of a customer's timeline and the cursor pointing at it.")
class TimelineEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this entry.")
    node: TimelineItem = strawberry.field(description="The record.")


@strawberry.type(description="A page of a customer's timeline: all record kinds merged, newest first.")
class TimelineConnection:
    edges: list[TimelineEdge] = strawberry.field(description="The entries of this page with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the timeline.")

    @strawberry.field(
        description="The records of this page without their cursors (`edges { node }` in short); it reads "
        "nothing more and costs the same."
    )
    def nodes(self) -> list[TimelineItem]:
        return [edge.node for edge in self.edges]


def records_field(kind: TimelineKind, connection: type[CountedConnection[Any]], description: str) -> Any:
    """A ``Customer`` field listing one kind of the customer's records, newest first."""
    spec = RECORD_KINDS[kind]

    async def resolve(root: Customer, info: Info, first: FirstArg, after: AfterArg = None) -> Any:
        limit = page_size(first, info.context.settings.max_page_size)
        position = spec.position(after)
        raw = info._raw_info
        completed = info.context.loaders.completed.take(
            raw.variable_values, raw.field_nodes[0], root.record_id
        )
        if completed is not None:
            return completed  # the pipeline completed this page for this selection
        loaders = spec.loaders(info.context.loaders)
        page = await loaders.pages.load(PageKey(root.record_id, limit, position))
        edges, page_info = build_edges(page, spec.view, spec.cursor)

        async def count() -> int:
            total: int = await loaders.counts.load(root.record_id)
            return total

        return connection(edges=edges, page_info=page_info, count=count)

    resolve.__annotations__["return"] = connection
    return strawberry.field(resolver=resolve, description=description)
