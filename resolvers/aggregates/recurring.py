"""The ``recurringIssues`` query: root causes by period against their baseline, the rising ones flagged."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domain.aggregates import recurring as domain
from domain.aggregates.periods import Period
from domain.errors import InvalidInput
from domain.lists.models import ListKind
from resolvers.aggregates.filters import bounded, disclosure_for, reporting_zone
from resolvers.context import Info
from resolvers.enums import Interval, IssueAxis


@strawberry.input(
    description="Root causes recorded in a period of local days, of some regions and categories."
)
class RecurringFilter:
    from_: date | None = strawberry.field(
        default=None,
        name="from",
        description="First day of the period (local to timeZone); without from and to, managers get the 28 "
        "days up to yesterday.",
    )
    to: date | None = strawberry.field(default=None, description="Last day of the period, included.")
    time_zone: str = strawberry.field(
        default="UTC", description="IANA time zone of the days and buckets, e.g. Europe/Berlin."
    )
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    categories: list[str] | None = strawberry.field(
        default=None, description="Only causes of these categories (CASE_CATEGORY codes)."
    )

    def to_domain(self) -> domain.RecurringFilter:
        if (self.from_ is None) != (self.to is None):
            raise InvalidInput(
                "give both from and to, or neither", field="from" if self.from_ is None else "to"
            )
        period = Period(self.from_, self.to) if self.from_ is not None and self.to is not None else None
        return domain.RecurringFilter(
            period, self.time_zone, bounded(self.regions, "regions"), bounded(self.categories, "categories")
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
        filter_: Annotated[
            RecurringFilter | None,
            strawberry.argument(
                name="filter",
                description="Period, regions, categories; by default the last 28 days (managers).",
            ),
        ] = None,
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
            (filter_ or RecurringFilter()).to_domain(),
            tuple(group_by or ()),
            interval,
            disclosure=disclosure_for(info),
            now=info.context.now,
            reporting_zone=reporting_zone(info),
            listed=causes.is_listed,
        )
        return [RecurringIssue.of(row) for row in rows]
