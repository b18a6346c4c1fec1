"""The feedback type and its expectation/perception items."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.alerts.rules import loop_status
from domain.feedback import models as fb
from resolvers.context import Info
from resolvers.enums import FeedbackChannel, FeedbackStatus, Touchpoint
from resolvers.references import CustomerRecord

if TYPE_CHECKING:
    from resolvers.alerts.types import Reply


@strawberry.type(description="Expectation and perception of one service dimension, each on a 1-7 scale.")
class ScoreItem:
    dimension: str = strawberry.field(
        description="The service dimension: a SERVICE_DIMENSION code of managedList, e.g. speed."
    )
    expectation: int = strawberry.field(description="What the customer expected, 1-7.")
    perception: int = strawberry.field(description="What the customer perceived, 1-7.")
    gap: int = strawberry.field(
        description="Perception minus expectation: negative when the company fell short."
    )


@strawberry.type(
    description="A customer's response about one experience, given at the time of the experience."
)
class Feedback(CustomerRecord):
    channel: FeedbackChannel = strawberry.field(description="Where the feedback was given.")
    touchpoint: Touchpoint = strawberry.field(description="The moment of the journey it is about.")
    occurred_at: datetime = strawberry.field(description="When the experience happened.")
    received_at: datetime = strawberry.field(description="When the feedback was received.")
    nps: int | None = strawberry.field(description="Likelihood to recommend, 0-10.")
    csat: int | None = strawberry.field(description="Satisfaction, 1-5.")
    effort: int | None = strawberry.field(description="Effort it took, 1-7 (lower is easier).")
    items: list[ScoreItem] = strawberry.field(description="Expectation and perception per dimension.")
    satisfaction_index: float | None = strawberry.field(
        description="Mean over items of perception / expectation; 1.0 means expectations were met exactly."
    )
    comment: str | None = strawberry.field(description="The customer's own words.")

    @strawberry.field(description="How far the loop this response started has come.")
    async def status(self, info: Info) -> FeedbackStatus:
        return loop_status(await info.context.loaders.alerts_by_feedback.load(self.record_id))

    @strawberry.field(description="What the customer was told about this response, once resolved.")
    async def reply(self, info: Info) -> Annotated[Reply, strawberry.lazy("resolvers.alerts.types")] | None:
        from resolvers.alerts.types import Reply

        alert = await info.context.loaders.alerts_by_feedback.load(self.record_id)
        return Reply.of(alert.reply) if alert is not None else None

    @classmethod
    def of(cls, record: fb.Feedback) -> Feedback:
        return cls(
            record_id=record.id,
            customer_id=record.customer_id,
            channel=record.channel,
            touchpoint=record.touchpoint,
            occurred_at=record.occurred_at,
            received_at=record.received_at,
            nps=record.nps,
            csat=record.csat,
            effort=record.effort,
            items=[
                ScoreItem(
                    dimension=i.dimension, expectation=i.expectation, perception=i.perception, gap=i.gap
                )
                for i in record.items
            ],
            satisfaction_index=record.satisfaction_index,
            comment=record.comment,
        )
