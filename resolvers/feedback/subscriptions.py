"""Feedback received, live over WebSocket (managers)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain.events import EventKind
from resolvers.context import Info
from resolvers.feedback.types import Feedback
from resolvers.live_events import events_for


@strawberry.type
class FeedbackSubscriptions:
    @strawberry.subscription(description="Feedback received from now on in your regions (managers).")
    async def feedback_received(self, info: Info) -> AsyncGenerator[Feedback, None]:
        async for event in events_for(info, EventKind.FEEDBACK_RECEIVED):
            assert event.feedback is not None
            yield Feedback.of(event.feedback)
