"""Alerts raised and updated, live over WebSocket."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain.events import EventKind
from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.live_events import events_for


@strawberry.type
class AlertSubscriptions:
    @strawberry.subscription(description="Alerts raised from now on in your regions or assigned to you.")
    async def alert_raised(self, info: Info) -> AsyncGenerator[Alert, None]:
        async for event in events_for(info, EventKind.ALERT_RAISED):
            assert event.alert is not None
            yield Alert.of(event.alert)

    @strawberry.subscription(
        description="Changes to alerts in your regions or assigned to you, as they happen."
    )
    async def alert_updated(self, info: Info) -> AsyncGenerator[Alert, None]:
        async for event in events_for(info, EventKind.ALERT_UPDATED):
            assert event.alert is not None
            yield Alert.of(event.alert)
