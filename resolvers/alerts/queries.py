"""Alert work queues: open, overdue, mine; next deadline first."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.alerts.repository import AlertQueue
from domain.paging import Position
from resolvers.alerts.types import Alert, AlertConnection
from resolvers.context import Info
from resolvers.enums import AlertKind, AlertState
from resolvers.pagination import AfterArg, FirstArg, build_edges, page_size

QUEUE_CURSOR = "AlertQueue"


@strawberry.input(description="Which alerts a queue shows; open and acknowledged ones by default.")
class AlertFilter:
    states: list[AlertState] | None = strawberry.field(default=None, description="Only these states.")
    overdue: bool = strawberry.field(default=False, description="Only alerts past their next deadline.")
    mine: bool = strawberry.field(default=False, description="Only alerts assigned to the caller.")
    kinds: list[AlertKind] | None = strawberry.field(
        default=None, description="Only these kinds (operational, tactical)."
    )


@strawberry.type
class AlertQueries:
    @strawberry.field(description="Alerts of your regions (or assigned to you), next deadline first.")
    async def alerts(
        self,
        info: Info,
        first: FirstArg,
        after: AfterArg = None,
        filter_: Annotated[
            AlertFilter | None, strawberry.argument(name="filter", description="Which alerts to show.")
        ] = None,
    ) -> AlertConnection:
        ctx = info.context
        chosen = filter_ or AlertFilter()
        queue = AlertQueue(
            states=tuple(chosen.states) if chosen.states else AlertQueue().states,
            overdue_at=ctx.now if chosen.overdue else None,
            assignee_id=ctx.principal.subject if chosen.mine else None,
            kinds=tuple(chosen.kinds or ()),
        )
        position = Position.from_cursor(QUEUE_CURSOR, after) if after is not None else None
        page = await ctx.repos.alerts.queue(
            queue, first=page_size(first, ctx.settings.max_page_size), after=position
        )
        edges, page_info = build_edges(
            page, Alert.of, lambda a: Position(a.due_at, a.id).cursor(QUEUE_CURSOR)
        )
        return AlertConnection(edges=edges, page_info=page_info)
