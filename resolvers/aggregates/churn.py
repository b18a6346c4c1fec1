"""The ``churn`` query: customers who became churned per period, against the active base."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domain.aggregates import churn as churn_domain
from resolvers.aggregates.filters import (
    CustomerGroupBy,
    PeriodFilter,
    bounded,
    disclosure_for,
    reporting_zone,
    values,
)
from resolvers.context import Info
from resolvers.enums import Interval, Segment


@strawberry.input(description="Customers of some regions and segments, over a period of local days.")
class ChurnFilter(PeriodFilter):
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    segments: list[Segment] | None = strawberry.field(default=None, description="Only these segments.")

    def to_domain(self) -> churn_domain.ChurnFilter:
        return churn_domain.ChurnFilter(
            self.period, self.time_zone, bounded(self.regions, "regions"), values(self.segments, "segments")
        )


@strawberry.type(
    description=(
        "Churn in one time bucket (or the whole period) and group. Suppressed (figures null) when fewer "
        "customers than the privacy threshold were active at its start or joined during it."
    )
)
class ChurnRow:
    period_start: date = strawberry.field(description="First day of the bucket within the period.")
    period_end: date = strawberry.field(description="Last day of the bucket within the period, included.")
    region: str | None = strawberry.field(description="The region, when grouped by region.")
    segment: Segment | None = strawberry.field(description="The segment, when grouped by segment.")
    suppressed: bool = strawberry.field(description="True when too few customers to show figures.")
    active_at_start: int | None = strawberry.field(default=None, description="Active customers at its start.")
    joined: int | None = strawberry.field(default=None, description="Customers who joined during it.")
    churned: int | None = strawberry.field(
        default=None, description="Customers who became churned during it."
    )
    churn_rate: float | None = strawberry.field(default=None, description="Churned / active at start.")

    @classmethod
    def of(cls, row: churn_domain.ChurnRow) -> ChurnRow:
        shown = cls(
            period_start=row.period.first,
            period_end=row.period.last,
            region=row.region,
            segment=Segment(row.segment) if row.segment else None,
            suppressed=row.figures is None,
        )
        if (f := row.figures) is not None:
            shown.active_at_start, shown.joined, shown.churned, shown.churn_rate = (
                f.active_at_start,
                f.joined,
                f.churned,
                f.rate,
            )
        return shown


@strawberry.type
class ChurnQueries:
    @strawberry.field(
        description=(
            "Churn by period: customers who became churned, those active at the start and who joined, "
            "and the churn rate against the active base, per time bucket and group."
        )
    )
    async def churn(
        self,
        info: Info,
        filter: Annotated[ChurnFilter, strawberry.argument(description="Period, regions and segments.")],
        group_by: CustomerGroupBy = None,
        interval: Annotated[
            Interval | None, strawberry.argument(description="Time buckets; none: the whole period is one.")
        ] = None,
    ) -> list[ChurnRow]:
        rows = await churn_domain.churn(
            info.context.aggregate_repos.customers,
            filter.to_domain(),
            tuple(dict.fromkeys(group_by or ())),
            interval,
            disclosure=disclosure_for(info),
            now=info.context.now,
            reporting_zone=reporting_zone(info),
            cells=info.context.aggregate_repos.lifecycles,
        )
        return [ChurnRow.of(row) for row in rows]
