"""The ``serviceStandardCompliance`` query: were alerts acknowledged and resolved within their due times?"""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.aggregates import compliance as compliance_domain
from resolvers.aggregates.filters import PeriodFilter, bounded, disclosure_for, reporting_zone, values
from resolvers.context import Info
from resolvers.enums import Touchpoint


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
    median_minutes_to_acknowledge: float | None = strawberry.field(
        default=None,
        description="Median minutes from raising to acknowledging, nearest rank; exact, 4 decimals.",
    )
    median_minutes_to_resolve: float | None = strawberry.field(
        default=None,
        description="Median minutes from raising to resolving, nearest rank; exact, 4 decimals.",
    )

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
class ComplianceQueries:
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
            info.context.aggregate_repos.alerts,
            filter.to_domain(),
            now=info.context.now,
            disclosure=disclosure_for(info),
            reporting_zone=reporting_zone(info),
        )
        return [ComplianceRow.of(row) for row in rows]
