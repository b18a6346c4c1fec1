"""Live closed-loop events for one subscriber, filtered by what its role and rows allow."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime

from domain.alerts.models import AlertKind
from domain.events import Event, EventKind
from resolvers.context import Info
from resolvers.guards import require_operation
from resolvers.loaders import Loaders


async def events_for(info: Info, kind: EventKind) -> AsyncGenerator[Event, None]:
    """Events of ``kind`` about rows the subscriber may read, each with fresh loaders and clock."""
    require_operation(info)
    context = info.context
    async for event in context.events.subscribe():
        record = event.alert or event.feedback
        if event.kind is not kind or record is None or record.region is None:
            continue
        assignee = event.alert.assignee_id if event.alert else None
        tactical = event.alert is not None and event.alert.kind is AlertKind.TACTICAL
        if context.row_scope.admits(
            region=record.region, customer_id=record.customer_id, assignee_id=assignee, tactical=tactical
        ):
            context.loaders = Loaders.create(context.repos)
            context.now = datetime.now(UTC)
            yield event
