"""The ``recurringIssues`` query: root causes by period against their baseline, the rising ones flagged."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domain.aggregates import recurring as domain
from domain.lists.models import ListKind
from resolvers.aggregates.filters import PeriodFilter, bounded, disclosure_for, reporting_zone
from resolvers.context import Info
from resolvers.enums import Interval, IssueAxis


@strawberry.input(
    description="Root causes recorded in a period of local days, of some regions and categories."
)
class RecurringFilter(PeriodFilter):
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    categories: list[str] | None = strawberry.field(
        default=None, description="Only causes of these categories (CASE_CATEGORY codes)."
    )

    def to_domain(self) -> domain.RecurringFilter:
        return domain.RecurringFilter(
            self.period,
            self.time_zone,
            bounded(self.regions, "regions"),
            bounded(self.categories, "categories"),
        )


@strawberry.type(
    description=(
        "How often one root cause (or category) was recorded in one time bucket, against its baseline: the "
        "four buckets before it. Suppressed (figures null) when too few customers are behind it."
    )
)
class RecurringIssue:
    period_start: date = strawberry.field(description="First day of the bucket within the period.")
    period_end: date = strawberry.field(description="Last day of the bucket within the period, included.")
    cause: str | None = strawberry.field(description="The ROOT_CAUSE code, when grouped by cause.")
    category: str | None = strawberry.field(description="Its CASE_CATEGORY code.")
    region: str | None = strawberry.field(description="The region, when grouped by region.")
    suppressed: bool = strawberry.field(description="True when too few customers are behind it to show it.")
    count: int | None = strawberry.field(
        default=None, description="Operational alerts and complaints resolved with it in the bucket."
    )
    share: float | None = strawberry.field(default=None, description="Of the bucket's shown causes.")
    baseline_count: int | None = strawberry.field(
        default=None, description="How often it was recorded in the four buckets before."
    )
    expected: float | None = strawberry.field(
        default=None, description="What the baseline's rate predicts for this bucket's days."
    )
    change: float | None = strawberry.field(default=None, description="Count minus expected.")
    p_value: float | None = strawberry.field(
        default=None,
        description="Chance of at least this count at the baseline's rate (exact conditional binomial test).",
    )
    rising: bool | None = strawberry.field(
        default=None, description="Significantly above its baseline: p-value below 0.01, and 5 or more."
    )

    @classmethod
    def of(cls, row: domain.IssueRow) -> RecurringIssue:
        shown = cls(
            period_start=row.period.first,
            period_end=row.period.last,
            cause=row.cause,
            category=row.category,
            region=row.region,
            suppressed=row.figures is None,
        )
        if (f := row.figures) is not None:
            shown.count, shown.share, shown.baseline_count = f.count, f.share, f.baseline_count
            shown.expected, shown.change, shown.p_value, shown.rising = (
                f.expected,
                f.change,
                f.p_value,
                f.rising,
            )
        return shown


@strawberry.type
class RecurringQueries:
    @strawberry.field(
        description=(
            "Recurring issues: the root causes recorded on resolved operational alerts and complaints, per "
            "time bucket, with their share, their change against the four buckets before, and a flag on "
            "those that rise significantly; most first."
        )
    )
    async def recurring_issues(
        self,
        info: Info,
        filter: Annotated[RecurringFilter, strawberry.argument(description="Period, regions, categories.")],
        group_by: Annotated[
            list[IssueAxis] | None,
            strawberry.argument(description="By cause (the default), category, region."),
        ] = None,
        interval: Annotated[
            Interval | None, strawberry.argument(description="Time buckets; none: the whole period is one.")
        ] = None,
    ) -> list[RecurringIssue]:
        repos = info.context.aggregate_repos
        causes = await repos.lists.get(ListKind.ROOT_CAUSE)
        rows = await domain.recurring_issues(
            [repos.alerts, repos.cases],
            filter.to_domain(),
            tuple(group_by or ()),
            interval,
            disclosure=disclosure_for(info),
            now=info.context.now,
            reporting_zone=reporting_zone(info),
            listed=causes.is_listed,
        )
        return [RecurringIssue.of(row) for row in rows]
