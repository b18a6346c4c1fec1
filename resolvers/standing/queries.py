"""The ``worklist`` query: the caller's customers, most urgent first, with their standing."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.customers.models import Segment
from domain.errors import InvalidInput
from domain.standing import service
from domain.standing.models import NextBestAction
from domain.standing.worklist import WorklistFilter as DomainWorklistFilter
from resolvers.aggregates.filters import bounded
from resolvers.context import Info
from resolvers.customers.types import Customer
from resolvers.enums import Owner
from resolvers.pagination import AfterArg, FirstArg, PageInfo, page_size

ACTIONS = ", ".join(a.value for a in NextBestAction)
SEGMENTS = ", ".join(s.value for s in Segment)


@strawberry.input(
    name="WorklistFilter", description="Which customers a worklist shows; every part given must match."
)
class WorklistFilterInput:
    actions: list[str] | None = strawberry.field(
        default=None, description=f"Only these next best actions: any of {ACTIONS} (others: VALIDATION)."
    )
    segments: list[str] | None = strawberry.field(
        default=None, description=f"Only these segments: any of {SEGMENTS} (others: VALIDATION)."
    )
    owner: Owner = strawberry.field(
        default=Owner.ANY, description="ME: only the customers you own; ANY: every customer of your regions."
    )

    def to_domain(self, caller: str) -> DomainWorklistFilter:
        return DomainWorklistFilter(
            actions=tuple(NextBestAction(a) for a in _known(self.actions, NextBestAction, "actions")),
            segments=_known(self.segments, Segment, "segments"),
            owner_id=caller if self.owner is Owner.ME else None,
        )


def _known(
    given: list[str] | None, allowed: type[NextBestAction] | type[Segment], field: str
) -> tuple[str, ...]:
    """The distinct values asked for, each one of ``allowed``'s, or a typed error naming the first unknown."""
    chosen = bounded(given, field)
    names = {member.value for member in allowed}
    if unknown := [v for v in chosen if v not in names]:
        raise InvalidInput(
            f"unknown {field[:-1]} {unknown[0]!r}: one of {', '.join(sorted(names))}", field=field
        )
    return chosen


@strawberry.type(description="One customer of a worklist and the cursor pointing at it.")
class WorklistEdge:
    cursor: str = strawberry.field(description="Opaque cursor of this entry.")
    node: Customer = strawberry.field(description="The customer; its `standing` says why it is here.")


@strawberry.type(description="A page of a worklist: customers by priority, highest first.")
class WorklistConnection:
    edges: list[WorklistEdge] = strawberry.field(description="The entries of this page with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the worklist.")

    @strawberry.field(
        description="The customers of this page without their cursors (`edges { node }` in short); it reads "
        "nothing more and costs the same."
    )
    def nodes(self) -> list[Customer]:
        return [edge.node for edge in self.edges]


WorklistFilterArg = Annotated[
    WorklistFilterInput | None, strawberry.argument(name="filter", description="Which customers to show.")
]


@strawberry.type
class WorklistQueries:
    @strawberry.field(
        description=(
            "Who to call: the customers of your regions by priority (highest first, a fixed tie-break among "
            "equals), each with its standing and reasons. Customers whose standing does not change while "
            "you page appear exactly once, in order."
        )
    )
    async def worklist(
        self, info: Info, first: FirstArg, after: AfterArg = None, filter_: WorklistFilterArg = None
    ) -> WorklistConnection:
        ctx = info.context
        limit = page_size(first, ctx.settings.max_page_size)
        where = (filter_ or WorklistFilterInput()).to_domain(ctx.principal.subject)
        page = await service.worklist(
            ctx.repos, where, regions=ctx.principal.regions, first=limit, after=after
        )
        for standing in page.items:
            ctx.loaders.standings.prime(standing.customer_id, standing)
        customers = await ctx.loaders.customers.load_many([s.customer_id for s in page.items])
        cursors = [service.cursor_of(standing) for standing in page.items]
        # A standing a moment ahead of its customer's move out of your regions is skipped, not shown.
        edges = [
            WorklistEdge(cursor=cursor, node=Customer.of(customer))
            for cursor, customer in zip(cursors, customers, strict=True)
            if customer is not None
        ]
        return WorklistConnection(edges=edges, page_info=PageInfo.of(cursors, has_next=page.has_next))
