"""The ``experienceValue`` query: what promoters, passives and detractors spend, buy again and churn."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry

from domain.aggregates import experience_value as domain
from resolvers.aggregates.filters import PeriodFilter, bounded, disclosure_for, reporting_zone, values
from resolvers.context import Info
from resolvers.enums import Interval, NpsCategory, Segment, Touchpoint, ValueAxis, ValueWindow


@strawberry.input(
    description=(
        "Whole months of the reporting time zone (from the first of a month to the last day of one), the "
        "window, and dimension values."
    )
)
class ExperienceValueFilter(PeriodFilter):
    time_zone: str = strawberry.field(
        default="UTC", description="The reporting time zone (the first the server keeps rollups in)."
    )
    window: ValueWindow = strawberry.field(
        default=ValueWindow.DAYS_90,
        description="Days before and after each response over which spend, purchases and churn count.",
    )
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    segments: list[Segment] | None = strawberry.field(default=None, description="Only these segments.")
    touchpoints: list[Touchpoint] | None = strawberry.field(
        default=None, description="Only these touchpoints."
    )

    def to_domain(self) -> domain.ValueFilter:
        return domain.ValueFilter(
            period=self.period,
            time_zone=self.time_zone,
            window=self.window,
            regions=bounded(self.regions, "regions"),
            segments=values(self.segments, "segments"),
            touchpoints=values(self.touchpoints, "touchpoints"),
        )


@strawberry.type(description="One currency's spend of a bucket's customers, before and after they answered.")
class CurrencySpend:
    currency: str = strawberry.field(description="ISO 4217 currency; currencies are never added together.")
    before: Decimal = strawberry.field(description="Spent in the window's days before the responses, exact.")
    after: Decimal = strawberry.field(description="Spent in the window's days from the responses on, exact.")
    change: Decimal = strawberry.field(description="After minus before.")
    mean_before: Decimal = strawberry.field(description="Before per customer of the bucket, to the cent.")
    mean_after: Decimal = strawberry.field(description="After per customer of the bucket, to the cent.")

    @classmethod
    def of(cls, spend: domain.Spend) -> CurrencySpend:
        return cls(
            currency=spend.currency,
            before=spend.before,
            after=spend.after,
            change=spend.change,
            mean_before=spend.mean_before,
            mean_after=spend.mean_after,
        )


@strawberry.type(
    description=(
        "What the customers of one NPS category did around their responses, in one time bucket and group. "
        "Its customers are customer-months: each customer's first NPS response of a month. Suppressed "
        "(figures null) under the privacy threshold."
    )
)
class ExperienceValueRow:
    period_start: date = strawberry.field(description="First day of the bucket.")
    period_end: date = strawberry.field(description="Last day of the bucket, included.")
    region: str | None = strawberry.field(description="The region, when grouped by region.")
    segment: Segment | None = strawberry.field(description="The segment, when grouped by segment.")
    touchpoint: Touchpoint | None = strawberry.field(description="The touchpoint, when grouped by it.")
    category: NpsCategory = strawberry.field(description="Promoters, passives or detractors.")
    complete: bool = strawberry.field(
        description="True when every window of the bucket has ended, so its figures are final."
    )
    suppressed: bool = strawberry.field(description="True when too few customers to show figures.")
    customers: int | None = strawberry.field(default=None, description="Customer-months of the bucket.")
    repeat_purchasers: int | None = strawberry.field(
        default=None, description="Of them, those who bought within the window after answering."
    )
    repeat_purchase_rate: float | None = strawberry.field(
        default=None, description="Repeat purchasers / customers."
    )
    churned: int | None = strawberry.field(
        default=None, description="Of them, those who churned within the window after answering."
    )
    churn_rate: float | None = strawberry.field(default=None, description="Churned / customers.")
    spend: list[CurrencySpend] | None = strawberry.field(
        default=None, description="Spend before and after, per currency (refunds netted)."
    )

    @classmethod
    def of(cls, row: domain.ValueRow) -> ExperienceValueRow:
        shown = cls(
            period_start=row.period.first,
            period_end=row.period.last,
            region=row.values.get(domain.ValueAxis.REGION),
            segment=Segment(row.values[domain.ValueAxis.SEGMENT])
            if domain.ValueAxis.SEGMENT in row.values
            else None,
            touchpoint=(
                Touchpoint(row.values[domain.ValueAxis.TOUCHPOINT])
                if domain.ValueAxis.TOUCHPOINT in row.values
                else None
            ),
            category=row.category,
            complete=row.complete,
            suppressed=row.figures is None,
        )
        if (f := row.figures) is not None:
            shown.customers, shown.repeat_purchasers, shown.repeat_purchase_rate = (
                f.customers,
                f.repeat_purchasers,
                f.repeat_purchase_rate,
            )
            shown.churned, shown.churn_rate = f.churned, f.churn_rate
            shown.spend = [CurrencySpend.of(s) for s in f.spend]
        return shown


@strawberry.type
class ExperienceValueQueries:
    @strawberry.field(
        description=(
            "What experience is worth: per NPS category at feedback time, the customers' spend in the "
            "window's days before and after their responses, repeat purchases and churn. Managers get their "
            "regions, the board and BI tools the whole company."
        )
    )
    async def experience_value(
        self,
        info: Info,
        filter: Annotated[
            ExperienceValueFilter, strawberry.argument(description="Months, window and dimension values.")
        ],
        group_by: Annotated[
            list[ValueAxis] | None, strawberry.argument(description="Dimensions to group by.")
        ] = None,
        interval: Annotated[
            Interval | None,
            strawberry.argument(description="MONTH or QUARTER buckets; none: the whole period is one."),
        ] = None,
    ) -> list[ExperienceValueRow]:
        query = domain.ValueQuery(filter.to_domain(), tuple(dict.fromkeys(group_by or ())), interval)
        rows = await domain.experience_value(
            info.context.aggregate_repos.value,
            query,
            disclosure=disclosure_for(info),
            now=info.context.now,
            zone=reporting_zone(info),
        )
        return [ExperienceValueRow.of(row) for row in rows]
