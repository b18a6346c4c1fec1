"""A touchpoint's window day by day, judged by the standard in force each day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import strawberry

from domain.aggregates.periods import Period, local_day, time_zone
from domain.tactical.service import windows_by_day
from resolvers.context import Info
from resolvers.enums import Touchpoint
from resolvers.standards.queries import RegionArg, own_region
from resolvers.tactical.types import WindowDay

DEFAULT_DAYS = 28


@strawberry.type
class TacticalQueries:
    @strawberry.field(
        description="A touchpoint's rolling window in one of your regions for each day of a period (local "
        "days of the reporting time zone, at most 92, ending today or before; by default the last 28 days), "
        "each judged by the standard in force at that day's end."
    )
    async def service_standard_windows(
        self,
        info: Info,
        region: RegionArg,
        touchpoint: Annotated[Touchpoint, strawberry.argument(description="The touchpoint.")],
        from_: Annotated[
            date | None,
            strawberry.argument(name="from", description="First day; by default 27 days before to."),
        ] = None,
        to: Annotated[
            date | None, strawberry.argument(description="Last day, included; by default today.")
        ] = None,
    ) -> list[WindowDay]:
        own_region(info, region)
        context = info.context
        repos = context.aggregate_repos
        last = to or local_day(context.now, time_zone(repos.rollups.zones[0]))
        period = Period(from_ or last - timedelta(days=DEFAULT_DAYS - 1), last)
        days = await windows_by_day(
            repos, region=region, touchpoint=touchpoint, period=period, now=context.now
        )
        return [WindowDay.of(day) for day in days]
