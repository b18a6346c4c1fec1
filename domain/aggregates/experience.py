"""Customer-experience figures per bucket (NPS, CSAT, satisfaction index), read from rollups.

A bucket is a time bucket of the period (or the whole period) and one value of each grouped axis.
Buckets answered by fewer distinct customers than the privacy threshold are returned suppressed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from domain.aggregates.periods import (
    Interval,
    Period,
    bucket_span,
    bucket_start,
    cover,
    daily,
    previous_bucket,
    time_zone,
)
from domain.aggregates.rollups import Axis, RollupReader, cube_for
from domain.aggregates.stats import percentile, ratio, rounded
from domain.aggregates.tally import RATIO_SCALE, Tally
from domain.errors import InvalidInput
from domain.feedback.scores import (
    CSAT_SCORES,
    EFFORT_SCORES,
    NPS_SCORES,
    detractors,
    net_promoter_score,
    promoters,
)

PERCENTILES = (10, 50, 90)
# More buckets than a dashboard can show means the request should be narrowed.
MAX_BUCKETS = 10_000


@dataclass(frozen=True, slots=True)
class ExperienceFilter:
    """Which responses count: the period (local days of a time zone) and, when given, axis values."""

    period: Period
    time_zone: str = "UTC"
    regions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()

    def where(self) -> dict[Axis, tuple[str, ...]]:
        """The axis values asked for; an axis not named is not filtered."""
        given = {
            Axis.REGION: self.regions,
            Axis.CHANNEL: self.channels,
            Axis.TOUCHPOINT: self.touchpoints,
            Axis.SEGMENT: self.segments,
        }
        return {axis: values for axis, values in given.items() if values}


@dataclass(frozen=True, slots=True)
class ExperienceQuery:
    """A filter, the axes to group by and, optionally, time buckets."""

    filter: ExperienceFilter
    group_by: tuple[Axis, ...] = ()
    interval: Interval | None = None


@dataclass(frozen=True, slots=True)
class DimensionFigures:
    """Satisfaction index and mean expectation-perception gap of one service dimension."""

    dimension: str
    responses: int
    satisfaction_index: float
    gap: float


@dataclass(frozen=True, slots=True)
class Percentiles:
    p10: int | None
    p50: int | None
    p90: int | None

    @classmethod
    def of(cls, counts: Sequence[int], lowest: int) -> Percentiles:
        return cls(*(percentile(counts, lowest, p) for p in PERCENTILES))


@dataclass(frozen=True, slots=True)
class ExperienceFigures:
    """Every figure of one bucket, exact from its score counts."""

    responses: int
    nps_responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    nps_distribution: tuple[int, ...]  # responses per score 0-10
    nps_percentiles: Percentiles
    csat_responses: int
    csat_mean: float | None
    csat_top_box_share: float | None
    csat_bottom_box_share: float | None
    csat_distribution: tuple[int, ...]  # responses per score 1-5
    csat_percentiles: Percentiles
    effort_mean: float | None
    satisfaction_responses: int
    satisfaction_index: float | None
    dimensions: tuple[DimensionFigures, ...]

    @classmethod
    def of(cls, tally: Tally) -> ExperienceFigures:
        promoted, detracted = promoters(tally.nps), detractors(tally.nps)
        csat_responses = sum(tally.csat)
        return cls(
            responses=tally.responses,
            nps_responses=sum(tally.nps),
            promoters=promoted,
            passives=sum(tally.nps) - promoted - detracted,
            detractors=detracted,
            nps=_rounded(net_promoter_score(tally.nps)),
            nps_distribution=tuple(tally.nps),
            nps_percentiles=Percentiles.of(tally.nps, NPS_SCORES.start),
            csat_responses=csat_responses,
            csat_mean=_rounded(csat_mean_of(tally)),
            csat_top_box_share=ratio(tally.csat[-1], csat_responses),
            csat_bottom_box_share=ratio(tally.csat[0], csat_responses),
            csat_distribution=tuple(tally.csat),
            csat_percentiles=Percentiles.of(tally.csat, CSAT_SCORES.start),
            effort_mean=_rounded(_mean(tally.effort, EFFORT_SCORES.start)),
            satisfaction_responses=tally.indexed,
            satisfaction_index=_rounded(tally.satisfaction_index),
            dimensions=tuple(
                DimensionFigures(
                    dimension=name,
                    responses=d.responses,
                    satisfaction_index=rounded(Fraction(d.ratio_sum, RATIO_SCALE * d.responses)),
                    gap=rounded(Fraction(d.gap_sum, d.responses)),
                )
                for name, d in sorted(tally.dimensions.items())
            ),
        )


@dataclass(frozen=True, slots=True)
class Change:
    """How the intensive figures moved against the bucket before (exact, then rounded).

    Only means and scores are compared: a bucket clipped by the period has fewer responses than the whole
    bucket before it, but its NPS and means are still comparable.
    """

    nps: float | None
    csat_mean: float | None
    satisfaction_index: float | None

    @classmethod
    def between(cls, before: Tally, current: Tally) -> Change:
        return cls(
            nps=_change(net_promoter_score(current.nps), net_promoter_score(before.nps)),
            csat_mean=_change(csat_mean_of(current), csat_mean_of(before)),
            satisfaction_index=_change(current.satisfaction_index, before.satisfaction_index),
        )


@dataclass(frozen=True, slots=True)
class ExperienceBucket:
    """One bucket: its days, its axis values, and its figures unless suppressed."""

    period: Period
    values: Mapping[Axis, str] = field(default_factory=dict)
    figures: ExperienceFigures | None = None  # None: suppressed
    change: Change | None = None  # None: no bucket before, or either side suppressed

    @property
    def suppressed(self) -> bool:
        return self.figures is None


def csat_mean_of(tally: Tally) -> Fraction | None:
    return _mean(tally.csat, CSAT_SCORES.start)


def _mean(counts: Sequence[int], lowest: int) -> Fraction | None:
    answered = sum(counts)
    if not answered:
        return None
    return Fraction(sum((lowest + n) * count for n, count in enumerate(counts)), answered)


def _rounded(value: Fraction | None) -> float | None:
    return None if value is None else rounded(value)


def _change(current: Fraction | None, before: Fraction | None) -> float | None:
    return None if current is None or before is None else rounded(current - before)


TimeKey = date
GroupKey = tuple[str, ...]


async def experience(
    reader: RollupReader, query: ExperienceQuery, *, min_customers: int
) -> list[ExperienceBucket]:
    """The buckets of ``query`` that have responses, in time then group order, from rollup cells only."""
    interval = query.interval
    period = query.filter.period.checked(interval)
    time_zone(query.filter.time_zone)  # an unknown name gets its own message
    if query.filter.time_zone not in reader.zones:
        kept = ", ".join(reader.zones)
        raise InvalidInput(f"aggregates are kept in these time zones only: {kept}", field="timeZone")
    before = period.before(interval)
    # Weeks and days do not align with months, so they are read from daily cells.
    spans = daily if interval in (Interval.DAY, Interval.WEEK) else cover
    where = query.filter.where()
    cube = cube_for([*where, *query.group_by])
    cells = await reader.cells(query.filter.time_zone, cube, [*spans(before), *spans(period)], where)

    tallies: dict[tuple[TimeKey, GroupKey], Tally] = {}
    for key, tally in cells:
        when = _time_key(key.slot.start, period, before, interval)
        group = tuple(key.value(d) or "" for d in query.group_by)
        tallies.setdefault((when, group), Tally()).add(tally)

    in_period = sorted(k for k in tallies if k[0] in period)
    if len(in_period) > MAX_BUCKETS:
        raise InvalidInput(f"more than {MAX_BUCKETS} buckets: group by less or use a longer interval")
    buckets = []
    for when, group in in_period:
        current = tallies[(when, group)]
        prior_key = previous_bucket(when, interval) if interval else before.first
        prior = tallies.get((prior_key, group))
        enough = current.keeps_enough(min_customers)
        compared = enough and prior is not None and prior.keeps_enough(min_customers)
        buckets.append(
            ExperienceBucket(
                period=bucket_span(when, period, interval),
                values=dict(zip(query.group_by, group, strict=True)),
                figures=ExperienceFigures.of(current) if enough else None,
                change=Change.between(prior, current) if compared and prior is not None else None,
            )
        )
    return buckets


def _time_key(day: date, period: Period, before: Period, interval: Interval | None) -> TimeKey:
    """The bucket a cell starting on ``day`` belongs to: a natural bucket start, or the period's first day."""
    if interval is not None:
        return bucket_start(day, interval)
    return period.first if day in period else before.first
