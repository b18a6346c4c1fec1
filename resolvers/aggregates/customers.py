"""The ``revenueAtRisk`` and ``churn`` queries: customer-level aggregates by region and segment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.aggregates import churn as churn_domain
from domain.aggregates import risk as risk_domain
from domain.money import Money
from resolvers.aggregates.filters import PeriodFilter, bounded, values
from resolvers.context import Info
from resolvers.enums import CustomerDimension, Interval, Segment


@strawberry.input(description="Which customers count as at risk, and which of them are summed.")
class RiskFilter:
    as_of: date | None = strawberry.field(
        default=None, description="Last day (UTC) of the detractor window, included; today when not given."
    )
    window_days: int = strawberry.field(
        default=90, description="Days of detractor feedback (NPS 0-6) that put a customer at risk (1-366)."
    )
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    segments: list[Segment] | None = strawberry.field(default=None, description="Only these segments.")

    def to_domain(self, today: date) -> risk_domain.RiskFilter:
        last = self.as_of or today
        return risk_domain.RiskFilter(
            as_of=datetime.combine(last + timedelta(days=1), time(), UTC),
            window_days=self.window_days,
            regions=bounded(self.regions, "regions"),
            segments=values(self.segments, "segments"),
        )


@strawberry.type(
    description=(
        "Lifetime value of the customers at risk (recent detractor feedback or an open alert) in one group "
        "and currency. Suppressed (figures null) below the privacy threshold."
    )
)
class RiskRow:
    region: str | None = strawberry.field(description="The region, when grouped by region.")
    segment: Segment | None = strawberry.field(description="The segment, when grouped by segment.")
    currency: str = strawberry.field(description="ISO 4217 currency of the lifetime values.")
    suppressed: bool = strawberry.field(
        description="True when too few customers are at risk to show figures."
    )
    customers: int | None = strawberry.field(default=None, description="Customers at risk.")
    lifetime_value: Decimal | None = strawberry.field(
        default=None, description="Their summed lifetime value in the currency's major unit, exact."
    )

    @classmethod
    def of(cls, row: risk_domain.RiskRow) -> RiskRow:
        shown = cls(
            region=row.region,
            segment=Segment(row.segment) if row.segment else None,
            currency=row.currency,
            suppressed=row.figures is None,
        )
        if row.figures is not None:
            shown.customers = row.figures.customers
            shown.lifetime_value = Money(row.figures.lifetime_value_minor, row.currency).amount
        return shown


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


GroupBy = Annotated[
    list[CustomerDimension] | None, strawberry.argument(description="Dimensions to group by.")
]


@strawberry.type
class CustomerAggregateQueries:
    @strawberry.field(
        description=(
            "Revenue at risk: lifetime value of customers with recent detractor feedback or an open alert, "
            "per group and currency. Managers get their regions, the board and BI tools the whole company."
        )
    )
    async def revenue_at_risk(
        self,
        info: Info,
        filter: Annotated[RiskFilter | None, strawberry.argument(description="Window and groups.")] = None,
        group_by: GroupBy = None,
    ) -> list[RiskRow]:
        where = (filter or RiskFilter()).to_domain(info.context.now.date())
        rows = await risk_domain.revenue_at_risk(
            info.context.insight,
            where,
            tuple(dict.fromkeys(group_by or ())),
            min_customers=info.context.settings.aggregate_min_customers,
        )
        return [RiskRow.of(row) for row in rows]

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
        group_by: GroupBy = None,
        interval: Annotated[
            Interval | None, strawberry.argument(description="Time buckets; none: the whole period is one.")
        ] = None,
    ) -> list[ChurnRow]:
        rows = await churn_domain.churn(
            info.context.insight.customers,
            filter.to_domain(),
            tuple(dict.fromkeys(group_by or ())),
            interval,
            min_customers=info.context.settings.aggregate_min_customers,
        )
        return [ChurnRow.of(row) for row in rows]
