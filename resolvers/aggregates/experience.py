"""The ``experience`` query: NPS, CSAT and satisfaction per bucket, from rollups."""

from __future__ import annotations

from dataclasses import astuple
from datetime import date
from typing import Annotated

import strawberry

from domain.aggregates import experience as domain
from domain.lists.models import ListKind
from resolvers.aggregates.filters import PeriodFilter, bounded, disclosure_for, values
from resolvers.context import Info
from resolvers.enums import Axis, FeedbackChannel, Interval, Segment, Touchpoint


@strawberry.input(
    description="Which feedback counts: a period of local days in a time zone, and dimension values."
)
class ExperienceFilter(PeriodFilter):
    time_zone: str = strawberry.field(
        default="UTC", description="IANA time zone of the days and buckets; one the server keeps rollups in."
    )
    regions: list[str] | None = strawberry.field(default=None, description="Only these regions.")
    channels: list[FeedbackChannel] | None = strawberry.field(
        default=None, description="Only these channels."
    )
    touchpoints: list[Touchpoint] | None = strawberry.field(
        default=None, description="Only these touchpoints."
    )
    segments: list[Segment] | None = strawberry.field(default=None, description="Only these segments.")

    def to_domain(self) -> domain.ExperienceFilter:
        return domain.ExperienceFilter(
            period=self.period,
            time_zone=self.time_zone,
            regions=bounded(self.regions, "regions"),
            channels=values(self.channels, "channels"),
            touchpoints=values(self.touchpoints, "touchpoints"),
            segments=values(self.segments, "segments"),
        )


@strawberry.type(description="How many responses gave one score.")
class ScoreCount:
    score: int = strawberry.field(description="The score.")
    count: int = strawberry.field(description="Responses that gave it.")


@strawberry.type(description="Satisfaction of one service dimension (expectation against perception).")
class DimensionScore:
    dimension: str = strawberry.field(description="The service dimension, as respondents rated it.")
    responses: int = strawberry.field(description="Responses that rated it.")
    satisfaction_index: float = strawberry.field(description="Mean of perception / expectation; 1 is met.")
    gap: float = strawberry.field(description="Mean of perception minus expectation; negative falls short.")


def _histogram(counts: tuple[int, ...], lowest: int) -> list[ScoreCount]:
    return [ScoreCount(score=lowest + n, count=c) for n, c in enumerate(counts)]


@strawberry.type(
    description=(
        "One bucket of feedback figures: a time bucket (or the whole period) and one value of each grouped "
        "dimension. A bucket with fewer distinct customers than the privacy threshold is suppressed: "
        "`suppressed` is true and every figure is null."
    )
)
class ExperienceBucket:
    period_start: date = strawberry.field(description="First day of the bucket within the period.")
    period_end: date = strawberry.field(description="Last day of the bucket within the period, included.")
    region: str | None = strawberry.field(description="The region, when grouped by region.")
    channel: FeedbackChannel | None = strawberry.field(description="The channel, when grouped by channel.")
    touchpoint: Touchpoint | None = strawberry.field(description="The touchpoint, when grouped by it.")
    segment: Segment | None = strawberry.field(description="The segment, when grouped by segment.")
    suppressed: bool = strawberry.field(description="True when too few customers answered to show figures.")
    responses: int | None = strawberry.field(default=None, description="Responses in the bucket.")
    nps_responses: int | None = strawberry.field(default=None, description="Responses with an NPS score.")
    promoters: int | None = strawberry.field(default=None, description="NPS 9-10.")
    passives: int | None = strawberry.field(default=None, description="NPS 7-8.")
    detractors: int | None = strawberry.field(default=None, description="NPS 0-6.")
    nps: float | None = strawberry.field(
        default=None, description="Net promoter score: % promoters - % detractors."
    )
    nps_distribution: list[ScoreCount] | None = strawberry.field(
        default=None, description="Responses per NPS score 0-10."
    )
    nps_p10: int | None = strawberry.field(
        default=None, description="10th percentile NPS score (nearest rank)."
    )
    nps_p50: int | None = strawberry.field(default=None, description="Median NPS score (nearest rank).")
    nps_p90: int | None = strawberry.field(
        default=None, description="90th percentile NPS score (nearest rank)."
    )
    csat_responses: int | None = strawberry.field(default=None, description="Responses with a CSAT score.")
    csat_mean: float | None = strawberry.field(default=None, description="Mean CSAT (1-5).")
    csat_top_box_share: float | None = strawberry.field(default=None, description="Share of CSAT 5.")
    csat_bottom_box_share: float | None = strawberry.field(default=None, description="Share of CSAT 1.")
    csat_distribution: list[ScoreCount] | None = strawberry.field(
        default=None, description="Responses per CSAT score 1-5."
    )
    csat_p10: int | None = strawberry.field(default=None, description="10th percentile CSAT (nearest rank).")
    csat_p50: int | None = strawberry.field(default=None, description="Median CSAT (nearest rank).")
    csat_p90: int | None = strawberry.field(default=None, description="90th percentile CSAT (nearest rank).")
    effort_mean: float | None = strawberry.field(default=None, description="Mean customer effort (1-7).")
    satisfaction_responses: int | None = strawberry.field(
        default=None, description="Responses rating service dimensions."
    )
    satisfaction_index: float | None = strawberry.field(
        default=None, description="Mean satisfaction index of responses."
    )
    dimensions: list[DimensionScore] | None = strawberry.field(
        default=None, description="Per service dimension."
    )
    nps_change: float | None = strawberry.field(default=None, description="NPS minus the bucket before's.")
    csat_mean_change: float | None = strawberry.field(
        default=None, description="Mean CSAT minus the bucket before's."
    )
    satisfaction_index_change: float | None = strawberry.field(
        default=None, description="Satisfaction index minus the bucket before's."
    )

    @classmethod
    def of(cls, bucket: domain.ExperienceBucket) -> ExperienceBucket:
        values = bucket.values
        channel = values.get(Axis.CHANNEL)
        touchpoint = values.get(Axis.TOUCHPOINT)
        segment = values.get(Axis.SEGMENT)
        where = cls(
            period_start=bucket.period.first,
            period_end=bucket.period.last,
            region=values.get(Axis.REGION),
            channel=FeedbackChannel(channel) if channel else None,
            touchpoint=Touchpoint(touchpoint) if touchpoint else None,
            segment=Segment(segment) if segment else None,
            suppressed=bucket.figures is None,
        )
        if bucket.figures is not None:
            where._show(bucket.figures, bucket.change)
        return where

    def _show(self, f: domain.ExperienceFigures, change: domain.Change | None) -> None:
        self.responses = f.responses
        self.nps_responses = f.nps_responses
        self.promoters, self.passives, self.detractors = f.promoters, f.passives, f.detractors
        self.nps = f.nps
        self.nps_distribution = _histogram(f.nps_distribution, 0)
        self.nps_p10, self.nps_p50, self.nps_p90 = astuple(f.nps_percentiles)
        self.csat_responses = f.csat_responses
        self.csat_mean = f.csat_mean
        self.csat_top_box_share = f.csat_top_box_share
        self.csat_bottom_box_share = f.csat_bottom_box_share
        self.csat_distribution = _histogram(f.csat_distribution, 1)
        self.csat_p10, self.csat_p50, self.csat_p90 = astuple(f.csat_percentiles)
        self.effort_mean = f.effort_mean
        self.satisfaction_responses = f.satisfaction_responses
        self.satisfaction_index = f.satisfaction_index
        self.dimensions = [
            DimensionScore(
                dimension=d.dimension,
                responses=d.responses,
                satisfaction_index=d.satisfaction_index,
                gap=d.gap,
            )
            for d in f.dimensions
        ]
        if change is not None:
            self.nps_change = change.nps
            self.csat_mean_change = change.csat_mean
            self.satisfaction_index_change = change.satisfaction_index


@strawberry.type
class ExperienceQueries:
    @strawberry.field(
        description=(
            "Feedback figures per bucket for BI tools and dashboards: NPS, CSAT, distributions, percentiles, "
            "satisfaction index and gaps, and their change against the bucket before. Managers get their "
            "regions, the board and BI tools the whole company. Read from rollups: the cost grows with the "
            "buckets, not with the responses."
        )
    )
    async def experience(
        self,
        info: Info,
        filter: Annotated[ExperienceFilter, strawberry.argument(description="Period and dimension values.")],
        group_by: Annotated[
            list[Axis] | None, strawberry.argument(description="Dimensions to group by.")
        ] = None,
        interval: Annotated[
            Interval | None, strawberry.argument(description="Time buckets; none: the whole period is one.")
        ] = None,
    ) -> list[ExperienceBucket]:
        query = domain.ExperienceQuery(filter.to_domain(), tuple(dict.fromkeys(group_by or ())), interval)
        repos = info.context.aggregate_repos
        dimensions = await repos.lists.get(ListKind.SERVICE_DIMENSION)
        buckets = await domain.experience(
            repos.rollups,
            query,
            disclosure=disclosure_for(info),
            now=info.context.now,
            listed=dimensions.is_listed,
        )
        return [ExperienceBucket.of(bucket) for bucket in buckets]
