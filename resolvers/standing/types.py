"""A customer's standing as GraphQL shows it: priority, next best action and the reasons."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.standing import models
from resolvers.enums import NextBestAction, ReasonCode


@strawberry.type(name="StandingReason", description="One rule that shaped a standing.")
class Reason:
    code: ReasonCode = strawberry.field(description="Stable, machine-readable code of the rule.")
    text: str = strawberry.field(description="What the rule found, in a few words for people.")


@strawberry.type(
    description=(
        "How urgently to contact a customer and what to do, with the reasons: from the rules listed in the "
        "README, kept up to date as the customer's records change."
    )
)
class Standing:
    priority: int = strawberry.field(description="0 (nothing to do) to 100 (most urgent).")
    action: NextBestAction = strawberry.field(description="The next best action.")
    reasons: list[Reason] = strawberry.field(description="The rules that made it, the deciding ones first.")
    computed_at: datetime = strawberry.field(description="When it was last worked out.")

    @classmethod
    def of(cls, standing: models.Standing) -> Standing:
        return cls(
            priority=standing.priority,
            action=standing.action,
            reasons=[Reason(code=r.code, text=r.text) for r in standing.reasons],
            computed_at=standing.computed_at,
        )
