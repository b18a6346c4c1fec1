"""The ``complaints`` query: complaints for a Pareto view, and how they were handled."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.aggregates import complaints as complaint_domain
from domain.lists.models import ListKind
from resolvers.aggregates.filters import PeriodFilter, bounded, disclosure_for, reporting_zone, values
from resolvers.context import Info
from resolvers.enums import CaseChannel, ComplaintAxis


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
        default=None,
        description=(
            "Median hours from opening to the latest resolution or closing (a reopened complaint counts "
            "until it was resolved again), nearest rank, of the resolved ones; exact, rounded to 4 decimals."
        ),
    )
    p90_hours_to_resolve: float | None = strawberry.field(
        default=None,
        description="90th percentile of the same hours, nearest rank; exact, rounded to 4 decimals.",
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


@strawberry.type
class ComplaintQueries:
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
            list[ComplaintAxis] | None,
            strawberry.argument(description="What to count by; CATEGORY when not given."),
        ] = None,
    ) -> list[ComplaintRow]:
        axes = tuple(dict.fromkeys(by or [ComplaintAxis.CATEGORY]))
        repos = info.context.aggregate_repos
        categories = await repos.lists.get(ListKind.CASE_CATEGORY)
        rows = await complaint_domain.complaints(
            repos.cases,
            filter.to_domain(),
            axes,
            disclosure=disclosure_for(info),
            now=info.context.now,
            reporting_zone=reporting_zone(info),
            listed=categories.is_listed,
        )
        return [ComplaintRow.of(row) for row in rows]
