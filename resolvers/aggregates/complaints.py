"""The ``complaints`` and ``serviceStandardCompliance`` queries: how complaints and alerts were handled."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.aggregates import complaints as complaint_domain
from domain.aggregates import compliance as compliance_domain
from resolvers.aggregates.filters import PeriodFilter, bounded, values
from resolvers.context import Info
from resolvers.enums import CaseChannel, ComplaintDimension, Touchpoint


@strawberry.input(
    description="Complaint cases opened in a period of local days, of some regions and channels."
)
class ComplaintFilter(PeriodFilter):
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    channels: list[CaseChannel] | None = strawberry.field(default=None, description="Only these channels.")

    def to_domain(self) -> complaint_domain.ComplaintFilter:
        return complaint_domain.ComplaintFilter(
            self.period, self.time_zone, bounded(self.regions, "regions"), values(self.channels, "channels")
        )


@strawberry.type(
    description=(
        "One row of the complaints Pareto: a category and/or channel, most complaints first. Rows with fewer "
        "distinct customers than the privacy threshold come last, suppressed, and stay out of the shares."
    )
)
class ComplaintRow:
    category: str | None = strawberry.field(description="The category, when counted by category.")
    channel: CaseChannel | None = strawberry.field(description="The channel, when counted by channel.")
    suppressed: bool = strawberry.field(description="True when too few customers complained to show figures.")
    complaints: int | None = strawberry.field(default=None, description="Complaints opened in the period.")
    share: float | None = strawberry.field(default=None, description="Share of the shown complaints.")
    cumulative_share: float | None = strawberry.field(
        default=None, description="Share of the shown complaints in this row and the rows above it."
    )
    resolved: int | None = strawberry.field(default=None, description="Of them, resolved or closed now.")
    median_hours_to_resolve: float | None = strawberry.field(
        default=None, description="Median hours from opening to resolution (nearest rank)."
    )
    p90_hours_to_resolve: float | None = strawberry.field(
        default=None, description="90th percentile hours from opening to resolution (nearest rank)."
    )
    reopened: int | None = strawberry.field(default=None, description="Complaints reopened after resolution.")
    reopen_rate: float | None = strawberry.field(default=None, description="Reopened / complaints.")

    @classmethod
    def of(cls, row: complaint_domain.ComplaintRow) -> ComplaintRow:
        shown = cls(
            category=row.category,
            channel=CaseChannel(row.channel) if row.channel else None,
            suppressed=row.figures is None,
        )
        if (f := row.figures) is not None:
            shown.complaints, shown.share, shown.cumulative_share = f.complaints, f.share, f.cumulative_share
            shown.resolved = f.resolved
            shown.median_hours_to_resolve = f.median_hours_to_resolve
            shown.p90_hours_to_resolve = f.p90_hours_to_resolve
            shown.reopened, shown.reopen_rate = f.reopened, f.reopen_rate
        return shown


@strawberry.input(description="Alerts raised in a period of local days, of some regions and touchpoints.")
class ComplianceFilter(PeriodFilter):
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    touchpoints: list[Touchpoint] | None = strawberry.field(
        default=None, description="Only these touchpoints."
    )

    def to_domain(self) -> compliance_domain.ComplianceFilter:
        return compliance_domain.ComplianceFilter(
            self.period,
            self.time_zone,
            bounded(self.regions, "regions"),
            values(self.touchpoints, "touchpoints"),
        )


@strawberry.type(
    description=(
        "How alerts of one touchpoint in one region kept the service standard. Suppressed (figures null) "
        "when fewer distinct customers than the privacy threshold are behind them."
    )
)
class ComplianceRow:
    region: str = strawberry.field(description="The region.")
    touchpoint: Touchpoint = strawberry.field(description="The touchpoint.")
    suppressed: bool = strawberry.field(description="True when too few customers are behind the alerts.")
    alerts: int | None = strawberry.field(default=None, description="Alerts raised in the period.")
    acknowledged_in_time: int | None = strawberry.field(
        default=None, description="Acknowledged by their due time."
    )
    resolved_in_time: int | None = strawberry.field(default=None, description="Resolved by their due time.")
    acknowledged_in_time_share: float | None = strawberry.field(default=None, description="Of all alerts.")
    resolved_in_time_share: float | None = strawberry.field(default=None, description="Of all alerts.")
    breaches: int | None = strawberry.field(
        default=None, description="Alerts that missed a due time, or are past one and still not done."
    )
    escalations: int | None = strawberry.field(default=None, description="Alerts escalated to a manager.")
    median_minutes_to_acknowledge: float | None = strawberry.field(default=None, description="Nearest rank.")
    median_minutes_to_resolve: float | None = strawberry.field(default=None, description="Nearest rank.")

    @classmethod
    def of(cls, row: compliance_domain.ComplianceRow) -> ComplianceRow:
        shown = cls(region=row.region, touchpoint=Touchpoint(row.touchpoint), suppressed=row.figures is None)
        if (f := row.figures) is not None:
            shown.alerts = f.alerts
            shown.acknowledged_in_time, shown.resolved_in_time = f.acknowledged_in_time, f.resolved_in_time
            shown.acknowledged_in_time_share = f.acknowledged_in_time_share
            shown.resolved_in_time_share = f.resolved_in_time_share
            shown.breaches, shown.escalations = f.breaches, f.escalations
            shown.median_minutes_to_acknowledge = f.median_minutes_to_acknowledge
            shown.median_minutes_to_resolve = f.median_minutes_to_resolve
        return shown


@strawberry.type
class HandlingQueries:
    @strawberry.field(
        description=(
            "Complaints for a Pareto view: counts by category and/or channel with cumulative shares, time to "
            "resolve and reopen rate. Managers get their regions, the board and BI tools the whole company."
        )
    )
    async def complaints(
        self,
        info: Info,
        filter: Annotated[ComplaintFilter, strawberry.argument(description="Period, regions and channels.")],
        by: Annotated[
            list[ComplaintDimension] | None,
            strawberry.argument(description="What to count by; CATEGORY when not given."),
        ] = None,
    ) -> list[ComplaintRow]:
        dimensions = tuple(dict.fromkeys(by or [ComplaintDimension.CATEGORY]))
        rows = await complaint_domain.complaints(
            info.context.insight.cases,
            filter.to_domain(),
            dimensions,
            min_customers=info.context.settings.aggregate_min_customers,
        )
        return [ComplaintRow.of(row) for row in rows]

    @strawberry.field(
        description=(
            "Service-standard compliance per region and touchpoint: alerts acknowledged and resolved within "
            "their due times, breaches, escalations and median handling times."
        )
    )
    async def service_standard_compliance(
        self,
        info: Info,
        filter: Annotated[ComplianceFilter, strawberry.argument(description="Period, regions, touchpoints.")],
    ) -> list[ComplianceRow]:
        rows = await compliance_domain.compliance(
            info.context.insight.alerts,
            filter.to_domain(),
            now=info.context.now,
            min_customers=info.context.settings.aggregate_min_customers,
        )
        return [ComplianceRow.of(row) for row in rows]
