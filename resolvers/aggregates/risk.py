"""The ``revenueAtRisk`` query: lifetime value of customers with recent detractor feedback or open alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.aggregates import risk as risk_domain
from domain.calendar import check_day
from domain.money import Money
from resolvers.aggregates.filters import CustomerGroupBy, bounded, disclosure_for, reporting_zone, values
from resolvers.context import Info
from resolvers.enums import Segment


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
        # Checked before the window's end is worked out from it, one day later.
        last = check_day(self.as_of or today, field="asOf")
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


@strawberry.type
class RiskQueries:
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
        group_by: CustomerGroupBy = None,
    ) -> list[RiskRow]:
        where = (filter or RiskFilter()).to_domain(info.context.now.date())
        rows = await risk_domain.revenue_at_risk(
            info.context.aggregate_repos,
            where,
            tuple(dict.fromkeys(group_by or ())),
            disclosure=disclosure_for(info),
            now=info.context.now,
            reporting_zone=reporting_zone(info),
        )
        return [RiskRow.of(row) for row in rows]
