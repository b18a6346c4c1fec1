"""Live loop events for one subscriber, filtered by what its role and rows allow."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime

from domain.alerts.models import AlertKind
from domain.events import Event, EventKind
from domain.scope import RowScope
from resolvers.context import Info
from resolvers.guards import require_operation
from resolvers.loaders import Loaders


async def events_for(info: Info, kind: EventKind) -> AsyncGenerator[Event, None]:
    """Events of ``kind`` about rows the subscriber may read, each with fresh loaders and clock."""
    require_operation(info)
    context = info.context
    async for event in context.events.subscribe():
        if event.kind is kind and _admitted(context.row_scope, event):
            context.loaders = Loaders.create(context.repos)
            context.now = datetime.now(UTC)
            yield event


def _admitted(scope: RowScope, event: Event) -> bool:
    """Whether the subscriber's rows hold the event's record (a digest: its region)."""
    if event.digest is not None:
        return all(scope.admits(region=region, customer_id=None) for region in event.digest.regions)
    record = event.alert or event.feedback
    if record is None or record.region is None:
        return False
    assignee = event.alert.assignee_id if event.alert else None
    tactical = event.alert is not None and event.alert.kind is AlertKind.TACTICAL
    return scope.admits(
        region=record.region, customer_id=record.customer_id, assignee_id=assignee, tactical=tactical
    )
