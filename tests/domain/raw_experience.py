"""Experience aggregates computed straight from raw responses, the plain way: the oracle for rollups.

It shares only the rounding rule (``stats.rounded``) with the code under test; buckets, filters, counts,
percentiles and means are worked out here again from the responses themselves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from domain.aggregates.experience import (
    Change,
    DimensionFigures,
    ExperienceBucket,
    ExperienceFigures,
    ExperienceQuery,
    Percentiles,
)
from domain.aggregates.periods import Interval, Period
from domain.aggregates.rollups import Axis
from domain.aggregates.stats import rounded
from domain.feedback.models import Feedback


def natural_start(day: date, interval: Interval) -> date:
    if interval is Interval.DAY:
        return day
    if interval is Interval.WEEK:
        return day - timedelta(days=day.isoweekday() - 1)
    if interval is Interval.MONTH:
        return date(day.year, day.month, 1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def step(start: date, interval: Interval, back: bool = False) -> date:
    """The natural start of the bucket after (or before) the one at ``start``."""
    sign = -1 if back else 1
    if interval is Interval.DAY:
        return start + timedelta(days=sign)
    if interval is Interval.WEEK:
        return start + timedelta(days=7 * sign)
    months = (1 if interval is Interval.MONTH else 3) * sign
    total = start.year * 12 + start.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def value(feedback: Feedback, dimension: Axis) -> str:
    return {
        Axis.REGION: feedback.region or "",
        Axis.CHANNEL: feedback.channel.value,
        Axis.TOUCHPOINT: feedback.touchpoint.value,
        Axis.SEGMENT: feedback.segment or "",
    }[dimension]


def nearest_rank(values: Sequence[int], p: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


def mean(values: Sequence[int | Fraction]) -> Fraction | None:
    return Fraction(sum(values)) / len(values) if values else None


def maybe(value: Fraction | None) -> float | None:
    return None if value is None else rounded(value)


def nps(responses: Sequence[Feedback]) -> Fraction | None:
    scores = [f.nps for f in responses if f.nps is not None]
    if not scores:
        return None
    return Fraction(100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)), len(scores))


def csat_mean(responses: Sequence[Feedback]) -> Fraction | None:
    return mean([f.csat for f in responses if f.csat is not None])


def index(responses: Sequence[Feedback]) -> Fraction | None:
    return mean(
        [
            sum(Fraction(i.perception, i.expectation) for i in f.items) / len(f.items)
            for f in responses
            if f.items
        ]
    )


def figures(responses: Sequence[Feedback], min_customers: int = 1) -> ExperienceFigures:
    nps_scores = [f.nps for f in responses if f.nps is not None]
    csat_scores = [f.csat for f in responses if f.csat is not None]
    efforts = [f.effort for f in responses if f.effort is not None]
    promoters = sum(s >= 9 for s in nps_scores)
    detractors = sum(s <= 6 for s in nps_scores)
    names = sorted({i.dimension for f in responses for i in f.items})
    dimensions = []
    for name in names:
        raters = {
            f.customer_id for f in responses if f.customer_id and any(i.dimension == name for i in f.items)
        }
        if len(raters) < min_customers:
            continue  # who rated a dimension is a group of its own, held to the same minimum
        items = [i for f in responses for i in f.items if i.dimension == name]
        dimensions.append(
            DimensionFigures(
                dimension=name,
                responses=len(items),
                satisfaction_index=rounded(
                    sum(Fraction(i.perception, i.expectation) for i in items) / len(items)
                ),
                gap=rounded(Fraction(sum(i.perception - i.expectation for i in items), len(items))),
            )
        )
    return ExperienceFigures(
        responses=len(responses),
        nps_responses=len(nps_scores),
        promoters=promoters,
        passives=len(nps_scores) - promoters - detractors,
        detractors=detractors,
        nps=maybe(nps(responses)),
        nps_distribution=tuple(nps_scores.count(s) for s in range(11)),
        nps_percentiles=Percentiles(*(nearest_rank(nps_scores, p) for p in (10, 50, 90))),
        csat_responses=len(csat_scores),
        csat_mean=maybe(csat_mean(responses)),
        csat_top_box_share=rounded(Fraction(csat_scores.count(5), len(csat_scores))) if csat_scores else None,
        csat_bottom_box_share=rounded(Fraction(csat_scores.count(1), len(csat_scores)))
        if csat_scores
        else None,
        csat_distribution=tuple(csat_scores.count(s) for s in range(1, 6)),
        csat_percentiles=Percentiles(*(nearest_rank(csat_scores, p) for p in (10, 50, 90))),
        effort_mean=maybe(mean(efforts)),
        satisfaction_responses=sum(1 for f in responses if f.items),
        satisfaction_index=maybe(index(responses)),
        dimensions=tuple(dimensions),
    )


def change(current: Sequence[Feedback], before: Sequence[Feedback]) -> Change:
    def diff(a: Fraction | None, b: Fraction | None) -> float | None:
        return None if a is None or b is None else rounded(a - b)

    return Change(
        nps=diff(nps(current), nps(before)),
        csat_mean=diff(csat_mean(current), csat_mean(before)),
        satisfaction_index=diff(index(current), index(before)),
    )


def enough(responses: Sequence[Feedback], minimum: int) -> bool:
    return len({f.customer_id for f in responses if f.customer_id is not None}) >= minimum


def raw_experience(
    responses: Iterable[Feedback],
    query: ExperienceQuery,
    *,
    min_customers: int,
    regions: Sequence[str] | None = None,
) -> list[ExperienceBucket]:
    """The buckets of ``query``, from raw responses; ``regions`` is a manager's scope (None: everything)."""
    zone = ZoneInfo(query.filter.time_zone)
    period, interval = query.filter.period, query.interval
    where = query.filter.where()
    if interval is None:
        before = Period(period.first - timedelta(days=period.days), period.first - timedelta(days=1))
    else:
        first = natural_start(period.first, interval)
        before = Period(step(first, interval, back=True), first - timedelta(days=1))

    groups: dict[tuple[date, tuple[str, ...]], list[Feedback]] = {}
    in_period: set[tuple[date, tuple[str, ...]]] = set()
    for feedback in responses:
        if regions is not None and feedback.region not in regions:
            continue
        if any(value(feedback, d) not in allowed for d, allowed in where.items()):
            continue
        day = feedback.occurred_at.astimezone(zone).date()
        if period.first <= day <= period.last:
            when = natural_start(day, interval) if interval else period.first
        elif before.first <= day <= before.last:
            when = natural_start(day, interval) if interval else before.first
        else:
            continue
        group = tuple(value(feedback, d) for d in query.group_by)
        groups.setdefault((when, group), []).append(feedback)
        if period.first <= day <= period.last:
            # A bucket the period starts part-way through is in it, clipped (keyed by its natural start).
            in_period.add((when, group))

    buckets = []
    for when, group in sorted(in_period):
        current = groups[(when, group)]
        prior = groups.get(((step(when, interval, back=True) if interval else before.first), group))
        shown = enough(current, min_customers)
        if interval is None:
            span = period
        else:
            end = step(when, interval) - timedelta(days=1)
            span = Period(max(when, period.first), min(end, period.last))
        buckets.append(
            ExperienceBucket(
                period=span,
                values=dict(zip(query.group_by, group, strict=True)),
                figures=figures(current, min_customers) if shown else None,
                change=change(current, prior) if shown and prior and enough(prior, min_customers) else None,
            )
        )
    return buckets
