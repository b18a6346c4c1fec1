"""A touchpoint's window day by day, judged by the standard in force each day."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domain.aggregates.periods import Period
from domain.tactical.service import window_days
from resolvers.context import Info
from resolvers.enums import Touchpoint
from resolvers.standards.queries import RegionArg, own_region
from resolvers.tactical.types import WindowDay


@strawberry.type
class TacticalQueries:
    @strawberry.field(
        description="A touchpoint's rolling window in one of your regions for each day of a period (local "
        "days of the reporting time zone, at most 92, ending today or before), each judged by the standard "
        "in force at that day's end."
    )
    async def service_standard_windows(
        self,
        info: Info,
        region: RegionArg,
        touchpoint: Annotated[Touchpoint, strawberry.argument(description="The touchpoint.")],
        from_: Annotated[date, strawberry.argument(name="from", description="First day.")],
        to: Annotated[date, strawberry.argument(description="Last day, included.")],
    ) -> list[WindowDay]:
        own_region(info, region)
        context = info.context
        days = await window_days(
            context.aggregate_repos,
            region=region,
            touchpoint=touchpoint,
            period=Period(from_, to),
            now=context.now,
        )
        return [WindowDay.of(day) for day in days]
