"""Customer-experience figures per bucket (NPS, CSAT, satisfaction index), read from rollups.

A bucket is a time bucket of the period (or the whole period) and one value of each grouped axis.
Buckets answered by fewer distinct customers than the privacy threshold are returned suppressed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

from domain.aggregates.disclosure import (
    Atom,
    Disclosure,
    Pattern,
    enough,
    months_before,
    publishable_period,
    suppress,
)
from domain.aggregates.periods import (
    Grain,
    Interval,
    Period,
    Slot,
    bucket_span,
    bucket_start,
    cover,
    daily,
    local_day,
    months_of,
    previous_bucket,
    time_zone,
)
from domain.aggregates.rollups import Axis, CellKey, RollupReader, cube_for
from domain.aggregates.stats import percentile, ratio, rounded
from domain.aggregates.tally import RATIO_SCALE, DimensionTally, Tally
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
    reader: RollupReader,
    query: ExperienceQuery,
    *,
    disclosure: Disclosure,
    now: datetime,
    listed: Callable[[str], bool] = lambda _: True,
) -> list[ExperienceBucket]:
    """The buckets of ``query`` that have responses, in time then group order, from rollup cells only.

    Protected callers see ended months only (``now`` tells which); service dimensions that are not
    ``listed`` (free text from before dimensions were a managed list) are left out.
    """
    query.filter.period.checked(query.interval)
    time_zone(query.filter.time_zone)  # an unknown name gets its own message
    if query.filter.time_zone not in reader.zones:
        kept = ", ".join(reader.zones)
        raise InvalidInput(f"aggregates are kept in these time zones only: {kept}", field="timeZone")
    if disclosure.protected:
        today = local_day(now, time_zone(reader.zones[0]))
        cells = await _protected_cells(reader, query, disclosure.min_customers, today, listed)
    else:
        cells = await _exact_cells(reader, query, listed)
    return _buckets(query, cells, disclosure)


@dataclass(frozen=True, slots=True)
class _Cells:
    """The tallies a request is answered from, each at its time span's first day, and the period's shape."""

    period: Period
    before: Period
    tallies: list[tuple[date, GroupKey, Tally | None]]  # None: a cell with responses, none of them shown


async def _exact_cells(reader: RollupReader, query: ExperienceQuery, listed: Callable[[str], bool]) -> _Cells:
    """Every cell the request covers, as it is (managers: their own regions, exactly)."""
    interval = query.interval
    period = query.filter.period.checked(interval)
    before = period.before(interval)
    # Weeks and days do not align with months, so they are read from daily cells.
    spans = daily if interval in (Interval.DAY, Interval.WEEK) else cover
    where = query.filter.where()
    cube = cube_for([*where, *query.group_by])
    cells = await reader.cells(query.filter.time_zone, cube, [*spans(before), *spans(period)], where)
    return _Cells(
        period,
        before,
        [(key.slot.start, _group(key, query.group_by), _listed_only(tally, listed)) for key, tally in cells],
    )


async def _protected_cells(
    reader: RollupReader, query: ExperienceQuery, minimum: int, today: date, listed: Callable[[str], bool]
) -> _Cells:
    """The shown cells of the publication lattice the request covers (``domain.aggregates.disclosure``)."""
    zone = reader.zones[0]
    if query.filter.time_zone != zone:
        raise InvalidInput(f"company-wide aggregates are kept in {zone} only", field="timeZone")
    interval = query.interval
    period = publishable_period(query.filter.period, interval, today=today)
    before = months_before(period) if interval is None else period.before(interval)
    where = query.filter.where()
    others = {*where, *query.group_by} - {Axis.REGION}
    if len(others) > 1:
        raise InvalidInput(
            "company-wide aggregates combine the region with at most one of channel, touchpoint and segment",
            field="groupBy",
        )
    axis = next(iter(others), None)
    slots = [Slot(Grain.MONTH, month) for month in [*months_of(before), *months_of(period)]]
    regions = {Axis.REGION: where[Axis.REGION]} if Axis.REGION in where else {}
    # The pattern of a row (a month and region) depends on all of its cells, whatever the request asks:
    # read the finest cube whole and work every cell out of it.
    rows: dict[tuple[date, str], dict[tuple[str, ...], Tally]] = {}
    for key, tally in await reader.cells(zone, cube_for(LATTICE_AXES), slots, regions):
        atom = tuple(key.value(a) or "" for a in LATTICE_AXES[1:])
        row = rows.setdefault((key.slot.start, key.value(Axis.REGION) or ""), {})
        row.setdefault(atom, Tally()).add(tally)
    asked = set(where.get(axis, ())) if axis is not None else set()
    tallies: list[tuple[date, GroupKey, Tally | None]] = []
    for (month, region), atoms in rows.items():
        for value, tally, shown in _lattice_row(atoms, axis, minimum, listed):
            if asked and value not in asked:
                continue
            values = {Axis.REGION: region, **({axis: value} if axis is not None else {})}
            group = tuple(values[a] for a in query.group_by)
            tallies.append((month, group, tally if shown else None))
    return _Cells(period, before, tallies)


# The axes of the publication lattice's rows: a month's region, split by each of the others.
LATTICE_AXES = (Axis.REGION, Axis.CHANNEL, Axis.TOUCHPOINT, Axis.SEGMENT)


def _lattice_row(
    atoms: Mapping[tuple[str, ...], Tally], axis: Axis | None, minimum: int, listed: Callable[[str], bool]
) -> list[tuple[str, Tally, bool]]:
    """One row's cells of ``axis`` (or its total), each with its tally and whether it is shown.

    A shown cell carries only its shown service dimensions: each dimension is a figure of its own (who rated
    it is a group of its own), suppressed the same way, and hidden wherever its cell is.
    """
    keys = list(atoms)
    main = suppress(
        [Atom(k, atoms[k].kept_customers(), atoms[k].responses) for k in keys], axes=3, minimum=minimum
    )
    names = sorted({n for tally in atoms.values() for n in tally.dimensions if listed(n)})
    ratings: dict[str, tuple[Pattern, dict[tuple[str, ...], DimensionTally]]] = {}
    for name in names:
        rated = [k for k in keys if name in atoms[k].dimensions]
        dims = [atoms[k].dimensions[name] for k in rated]
        pattern = suppress(
            [Atom(k, d.kept_customers(), d.responses) for k, d in zip(rated, dims, strict=True)],
            axes=3,
            minimum=minimum,
            forced=main.hidden,
        )
        ratings[name] = (pattern, dict(zip(rated, dims, strict=True)))
    index = None if axis is None else LATTICE_AXES.index(axis) - 1
    by_value: dict[str, list[tuple[str, ...]]] = {}
    for k in keys:
        by_value.setdefault("" if index is None else k[index], []).append(k)
    cells = []
    for value, members in sorted(by_value.items()):
        shown = main.total_shown if index is None else main.shows(index, value)
        tally = Tally()
        for k in members:
            tally.add(atoms[k])
        dimensions: dict[str, DimensionTally] = {}
        for name, (pattern, by_atom) in ratings.items():
            if pattern.total_shown if index is None else pattern.shows(index, value):
                merged = DimensionTally()
                for k in members:
                    if k in by_atom:
                        merged.add(by_atom[k])
                if merged.responses:
                    dimensions[name] = merged
        tally.dimensions = dimensions
        cells.append((value, tally, shown))
    return cells


def _with_dimensions(tally: Tally, dimensions: dict[str, DimensionTally]) -> Tally:
    """A copy of ``tally`` with only ``dimensions`` of its service dimensions."""
    copy = Tally()
    copy.add(tally)
    copy.dimensions = dict(dimensions)
    return copy


def _listed_only(tally: Tally, listed: Callable[[str], bool]) -> Tally:
    """``tally`` without its service dimensions that are not on the managed list."""
    if all(listed(name) for name in tally.dimensions):
        return tally
    return _with_dimensions(tally, {n: d for n, d in tally.dimensions.items() if listed(n)})


def _group(key: CellKey, group_by: Sequence[Axis]) -> GroupKey:
    return tuple(key.value(a) or "" for a in group_by)


def _buckets(query: ExperienceQuery, cells: _Cells, disclosure: Disclosure) -> list[ExperienceBucket]:
    """Cells added up into the request's buckets, each compared with the bucket before it."""
    interval, period, before = query.interval, cells.period, cells.before
    # A bucket is keyed by its natural start (the period's first day when unbucketed); the first and last
    # buckets of a period are clipped to it, and the cells of the period before only serve the comparison.
    tallies: dict[tuple[TimeKey, GroupKey], Tally] = {}
    listed: set[tuple[TimeKey, GroupKey]] = set()
    for day, group, tally in cells.tallies:
        when = _time_key(day, period, before, interval)
        if day in period:
            listed.add((when, group))
        if tally is not None:
            tallies.setdefault((when, group), Tally()).add(tally)
    if len(listed) > MAX_BUCKETS:
        raise InvalidInput(f"more than {MAX_BUCKETS} buckets: group by less or use a longer interval")
    # Protected answers add up shown cells only, each with enough customers; exact ones need the threshold.
    minimum = 1 if disclosure.protected else disclosure.min_customers
    buckets = []
    for when, group in sorted(listed):
        current = tallies.get((when, group))
        prior_key = previous_bucket(when, interval) if interval else before.first
        prior = tallies.get((prior_key, group))
        shown = current is not None and current.responses > 0 and current.keeps_enough(minimum)
        compared = shown and prior is not None and prior.responses > 0 and prior.keeps_enough(minimum)
        buckets.append(
            ExperienceBucket(
                period=bucket_span(when, period, interval),
                values=dict(zip(query.group_by, group, strict=True)),
                figures=ExperienceFigures.of(_rated_enough(current, minimum)) if shown and current else None,
                change=Change.between(prior, current) if compared and prior and current else None,
            )
        )
    return buckets


def _rated_enough(tally: Tally, minimum: int) -> Tally:
    """``tally`` with only the service dimensions rated by at least ``minimum`` customers.

    Who rated a dimension is a group of its own, held to the same minimum as a bucket (protected answers
    add up cells whose dimensions passed the lattice already, so the minimum there is 1).
    """
    rated = {name: d for name, d in tally.dimensions.items() if enough(d.kept_customers(), minimum)}
    return tally if len(rated) == len(tally.dimensions) else _with_dimensions(tally, rated)


def _time_key(day: date, period: Period, before: Period, interval: Interval | None) -> TimeKey:
    """The bucket a cell starting on ``day`` is in: its natural bucket, or the period (or the one before)."""
    if interval is not None:
        return bucket_start(day, interval)
    return period.first if day in period else before.first
