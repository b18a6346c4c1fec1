"""Live closed-loop events over WebSocket, each filtered by what the subscriber's role and rows allow."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry

from domain.events import Event, EventKind
from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.feedback.types import Feedback
from resolvers.loaders import Loaders
from resolvers.policy import require_operation


async def _events(info: Info, kind: EventKind) -> AsyncGenerator[Event, None]:
    """Events of ``kind`` about rows the subscriber may read, each with fresh loaders and clock."""
    require_operation(info)
    context = info.context
    async for event in context.events.subscribe():
        record = event.alert or event.feedback
        if event.kind is not kind or record is None or record.region is None:
            continue
        assignee = event.alert.assignee_id if event.alert else None
        if context.scope.admits(region=record.region, customer_id=record.customer_id, assignee_id=assignee):
            context.loaders = Loaders.create(context.repos)
            context.now = datetime.now(UTC)
            yield event


@strawberry.type(
    description="Live events over WebSocket (graphql-transport-ws), filtered by your role and rows."
)
class Subscription:
    @strawberry.subscription(description="Alerts raised from now on in your regions or assigned to you.")
    async def alert_raised(self, info: Info) -> AsyncGenerator[Alert, None]:
        async for event in _events(info, EventKind.ALERT_RAISED):
            assert event.alert is not None
            yield Alert.of(event.alert)

    @strawberry.subscription(
        description="Changes to alerts in your regions or assigned to you, as they happen."
    )
    async def alert_updated(self, info: Info) -> AsyncGenerator[Alert, None]:
        async for event in _events(info, EventKind.ALERT_UPDATED):
            assert event.alert is not None
            yield Alert.of(event.alert)

    @strawberry.subscription(description="Feedback received from now on in your regions (managers).")
    async def feedback_received(self, info: Info) -> AsyncGenerator[Feedback, None]:
        async for event in _events(info, EventKind.FEEDBACK_RECEIVED):
            assert event.feedback is not None
            yield Feedback.of(event.feedback)
