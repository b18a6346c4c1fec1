"""The ``loopPerformance`` query: who is doing what about alerts, per employee, team or region."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from auth.policy import FRONTLINE, loop_groups
from domain.aggregates import loop_performance as domain
from domain.errors import Forbidden
from resolvers import references
from resolvers.aggregates.filters import PeriodFilter, bounded, disclosure_for, reporting_zone
from resolvers.context import Info
from resolvers.employees.types import Employee
from resolvers.enums import Interval, LoopGroup


@strawberry.input(
    description="Operational alerts raised in a period of local days, of some regions and teams."
)
class LoopFilter(PeriodFilter):
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    teams: list[str] | None = strawberry.field(default=None, description="Only alerts of these teams.")

    def to_domain(self, assignee_id: str | None) -> domain.LoopFilter:
        return domain.LoopFilter(
            self.period,
            self.time_zone,
            bounded(self.regions, "regions"),
            bounded(self.teams, "teams"),
            assignee_id,
        )


@strawberry.type(
    description=(
        "How one group's operational alerts of one time bucket (or the whole period) were handled, and what "
        "came of them. Suppressed (figures null) when too few customers (or, company-wide, employees) are "
        "behind them."
    )
)
class LoopPerformanceRow:
    period_start: date = strawberry.field(description="First day of the bucket within the period.")
    period_end: date = strawberry.field(description="Last day of the bucket within the period, included.")
    employee_id: strawberry.Private[str | None]
    team: str | None = strawberry.field(description="The assignee's team, when grouped by team.")
    region: str | None = strawberry.field(description="The region, when grouped by region.")
    suppressed: bool = strawberry.field(description="True when too few are behind the figures to show them.")
    alerts: int | None = strawberry.field(default=None, description="Alerts received (raised) in the bucket.")
    acknowledged_in_time: int | None = strawberry.field(
        default=None, description="Acknowledged (or resolved) by their acknowledge due time."
    )
    acknowledged_in_time_share: float | None = strawberry.field(default=None, description="Of all alerts.")
    resolved_in_time: int | None = strawberry.field(default=None, description="Resolved by their due time.")
    resolved_in_time_share: float | None = strawberry.field(default=None, description="Of all alerts.")
    median_minutes_to_acknowledge: float | None = strawberry.field(
        default=None, description="Median minutes from raising to acknowledging, nearest rank."
    )
    p90_minutes_to_acknowledge: float | None = strawberry.field(
        default=None, description="90th percentile minutes from raising to acknowledging, nearest rank."
    )
    median_minutes_to_resolve: float | None = strawberry.field(
        default=None, description="Median minutes from raising to the latest resolution, nearest rank."
    )
    p90_minutes_to_resolve: float | None = strawberry.field(
        default=None, description="90th percentile minutes from raising to resolution, nearest rank."
    )
    escalations: int | None = strawberry.field(default=None, description="Alerts escalated past due.")
    reopened: int | None = strawberry.field(default=None, description="Alerts reopened after a resolution.")
    reopen_rate: float | None = strawberry.field(default=None, description="Reopened / alerts.")
    open: int | None = strawberry.field(default=None, description="Alerts still not resolved now (backlog).")
    open_median_age_hours: float | None = strawberry.field(
        default=None, description="Median age of the open ones, in hours, nearest rank."
    )
    open_oldest_age_hours: float | None = strawberry.field(
        default=None, description="Age of the oldest open one, in hours."
    )
    resolved: int | None = strawberry.field(default=None, description="Alerts resolved.")
    recovery_responses: int | None = strawberry.field(
        default=None,
        description="Resolved alerts whose customer answered again, with an NPS, within 30 days of it.",
    )
    recovered: int | None = strawberry.field(
        default=None, description="Of those, the next NPS is no longer a detractor's (7 or more)."
    )
    recovery_share: float | None = strawberry.field(
        default=None, description="Recovered / recovery responses."
    )
    mean_nps_change: float | None = strawberry.field(
        default=None,
        description="Mean of the next NPS minus the NPS that raised the alert, where both are known.",
    )

    @strawberry.field(description="The assignee, when grouped by employee (null for unassigned alerts).")
    async def employee(self, info: Info) -> Employee | None:
        return await references.employee(info, self.employee_id or None)

    @classmethod
    def of(cls, row: domain.LoopRow) -> LoopPerformanceRow:
        shown = cls(
            period_start=row.period.first,
            period_end=row.period.last,
            employee_id=row.employee_id,
            team=row.team,
            region=row.region,
            suppressed=row.figures is None,
        )
        if (f := row.figures) is not None:
            for name in domain.LoopFigures.__dataclass_fields__:
                setattr(shown, name, getattr(f, name))
        return shown


@strawberry.type
class LoopPerformanceQueries:
    @strawberry.field(
        description=(
            "Who is doing what: per employee, team or region and time bucket, operational alerts received, "
            "acknowledged and resolved in time, handling times, escalations, reopen rate, backlog, and the "
            "recovery of the customers whose alert was resolved. Managers: their regions; board and BI: "
            "teams and regions on the protected lattice, never an employee; frontline: its own row."
        )
    )
    async def loop_performance(
        self,
        info: Info,
        filter: Annotated[LoopFilter, strawberry.argument(description="Period, regions and teams.")],
        group_by: Annotated[
            list[LoopGroup] | None, strawberry.argument(description="What to group by.")
        ] = None,
        interval: Annotated[
            Interval | None, strawberry.argument(description="Time buckets; none: the whole period is one.")
        ] = None,
    ) -> list[LoopPerformanceRow]:
        context = info.context
        principal = context.principal
        groups = tuple(dict.fromkeys(group_by or ()))
        allowed = loop_groups(principal)
        if refused := [g for g in groups if g not in allowed]:
            raise Forbidden(
                f"the {principal.role.value} role may not group loop performance by {refused[0].name}"
            )
        own = principal.role is FRONTLINE
        rows = await domain.loop_performance(
            # Frontline reads its own alerts (in its rows); the others aggregate over their scope.
            (context.repos if own else context.aggregate_repos).alert_handling,
            context.repos.employees,
            filter.to_domain(principal.subject if own else None),
            groups,
            interval,
            disclosure=disclosure_for(info),
            now=context.now,
            reporting_zone=reporting_zone(info),
        )
        return [LoopPerformanceRow.of(row) for row in rows]
