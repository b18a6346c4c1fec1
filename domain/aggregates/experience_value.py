"""What experience is worth: spend, repurchase and churn around customers' ratings, by NPS category.

Read from value cells (``domain/value``), kept for every observed customer-month by the worker that keeps
standings, never from raw history per request. Time comes in whole months of the reporting time zone, since
an observation is a customer's first NPS response of a month; buckets are months, quarters or the whole
period, and a bucket's customers are customer-months (a customer answering in two months counts in each).

Managers get exact figures for their regions (a bucket of fewer customers than the minimum is left blank
for display). The board and BI tools get the publication lattice of ``domain.aggregates.disclosure``: the
rows are (month, region, NPS category), each split by segment and by touchpoint; an answer uses at most one
of the two, and every figure is a sum of the cells the row's suppression pattern shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from domain.aggregates.disclosure import Atom, Disclosure, suppress
from domain.aggregates.periods import (
    Interval,
    Period,
    add_months,
    bucket_span,
    bucket_start,
    local_day,
    month_start,
    months_of,
    time_zone,
)
from domain.aggregates.stats import ratio
from domain.aggregates.tally import CUSTOMERS_KEPT
from domain.errors import InvalidInput
from domain.money import Money
from domain.value.models import CellKey, NpsCategory, ValueFigures, ValueWindow


class ValueAxis(StrEnum):
    """What experience value is grouped by, besides time and the NPS category."""

    REGION = "region"
    SEGMENT = "segment"
    TOUCHPOINT = "touchpoint"


@dataclass(frozen=True, slots=True)
class ValueFilter:
    """Whole months of the reporting time zone, the window, and optionally some axis values."""

    period: Period
    time_zone: str = "UTC"
    window: ValueWindow = ValueWindow.DAYS_90
    regions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()

    def where(self) -> dict[ValueAxis, tuple[str, ...]]:
        given = {
            ValueAxis.REGION: self.regions,
            ValueAxis.SEGMENT: self.segments,
            ValueAxis.TOUCHPOINT: self.touchpoints,
        }
        return {axis: values for axis, values in given.items() if values}


@dataclass(frozen=True, slots=True)
class ValueQuery:
    """A filter, the axes to group by and, optionally, monthly or quarterly buckets."""

    filter: ValueFilter
    group_by: tuple[ValueAxis, ...] = ()
    interval: Interval | None = None


@dataclass(frozen=True, slots=True)
class Spend:
    """One currency's spend of a bucket's customers: before and after their responses, sums and means."""

    currency: str
    before: Decimal
    after: Decimal
    mean_before: Decimal  # per customer of the bucket, rounded to the cent, half to even
    mean_after: Decimal

    @property
    def change(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class ValueRowFigures:
    """A bucket's figures, exact (rates rounded to 4 decimals, means to the cent)."""

    customers: int
    repeat_purchasers: int
    repeat_purchase_rate: float | None
    churned: int
    churn_rate: float | None
    spend: tuple[Spend, ...]  # one per currency, never added together

    @classmethod
    def of(cls, figures: ValueFigures) -> ValueRowFigures:
        n = figures.customers
        return cls(
            customers=n,
            repeat_purchasers=figures.repeat,
            repeat_purchase_rate=ratio(figures.repeat, n),
            churned=figures.churned,
            churn_rate=ratio(figures.churned, n),
            spend=tuple(
                Spend(
                    currency,
                    Money(before, currency).amount,
                    Money(after, currency).amount,
                    _mean(before, n, currency),
                    _mean(after, n, currency),
                )
                for currency, (before, after) in sorted(figures.spend.items())
                if before or after
            ),
        )


def _mean(total_minor: int, customers: int, currency: str) -> Decimal:
    """The exact mean per customer, to the cent (``round`` of a fraction is half to even)."""
    return Money(round(Fraction(total_minor, customers)), currency).amount


@dataclass(frozen=True, slots=True)
class ValueRow:
    """One bucket: its months, axis values and NPS category, whether its windows have all ended, and its
    figures unless suppressed."""

    period: Period
    values: Mapping[ValueAxis, str]
    category: NpsCategory
    complete: bool
    figures: ValueRowFigures | None = None  # None: suppressed


class ValueReader(Protocol):
    """Reads the value cells of some months, narrowed by axis values (region, segment, touchpoint)."""

    async def cells(
        self, zone: str, window: ValueWindow, months: Sequence[date], where: Mapping[str, Sequence[str]]
    ) -> list[tuple[CellKey, ValueFigures]]: ...


_CATEGORY_ORDER = {c: n for n, c in enumerate(NpsCategory)}


async def experience_value(
    reader: ValueReader, query: ValueQuery, *, disclosure: Disclosure, now: datetime, zone: str
) -> list[ValueRow]:
    """The buckets of ``query`` that have observations, in time, group and category order."""
    where = query.filter
    time_zone(where.time_zone)  # an unknown name gets its own message
    if where.time_zone != zone:
        raise InvalidInput(f"experience value is kept in {zone} only", field="timeZone")
    tz = time_zone(zone)
    period = _whole_months(where.period, query.interval, today=local_day(now, tz), ended=disclosure.protected)
    months = months_of(period)
    if disclosure.protected:
        buckets = await _protected(reader, query, months, period, disclosure.min_customers, zone)
    else:
        buckets = await _exact(reader, query, months, period, zone)
    minimum = 1 if disclosure.protected else disclosure.min_customers
    rows = []
    for (when, group, category), bucket in sorted(
        buckets.items(), key=lambda kv: (kv[0][0], kv[0][1], _CATEGORY_ORDER[kv[0][2]])
    ):
        span = bucket_span(when, period, query.interval)
        ends = datetime.combine(span.last + timedelta(days=1), time(), tz)
        shown = bucket.shown and bucket.figures.customers >= minimum
        rows.append(
            ValueRow(
                period=span,
                values=dict(zip(query.group_by, group, strict=True)),
                category=category,
                complete=now >= ends + timedelta(days=where.window.days),
                figures=ValueRowFigures.of(bucket.figures) if shown else None,
            )
        )
    return rows


def _whole_months(period: Period, interval: Interval | None, *, today: date, ended: bool) -> Period:
    if interval in (Interval.DAY, Interval.WEEK):
        raise InvalidInput("experience value comes in months: use MONTH, QUARTER or none", field="interval")
    period = period.checked(interval)
    if period.first.day != 1:
        raise InvalidInput("the period must start on the first day of a month", field="from")
    if period.last + timedelta(days=1) != add_months(period.last, 1):
        raise InvalidInput("the period must end on the last day of a month", field="to")
    if ended and period.last >= month_start(today):
        raise InvalidInput("the period must end before the current month", field="to")
    return period


@dataclass(slots=True)
class _Bucket:
    figures: ValueFigures = field(default_factory=ValueFigures)
    shown: bool = False


BucketKey = tuple[date, tuple[str, ...], NpsCategory]


def _when(month: date, period: Period, interval: Interval | None) -> date:
    return bucket_start(month, interval) if interval is not None else period.first


def _value(key: CellKey, axis: ValueAxis) -> str:
    return {
        ValueAxis.REGION: key.region,
        ValueAxis.SEGMENT: key.segment,
        ValueAxis.TOUCHPOINT: key.touchpoint,
    }[axis]


async def _exact(
    reader: ValueReader, query: ValueQuery, months: list[date], period: Period, zone: str
) -> dict[BucketKey, _Bucket]:
    where = {axis.value: values for axis, values in query.filter.where().items()}
    buckets: dict[BucketKey, _Bucket] = {}
    for key, figures in await reader.cells(zone, query.filter.window, months, where):
        group = tuple(_value(key, axis) for axis in query.group_by)
        bucket = buckets.setdefault(
            (_when(key.month, period, query.interval), group, key.category), _Bucket()
        )
        bucket.figures.add(figures)
        bucket.shown = True
    return buckets


# The axes a lattice row (a month, region and category) is split by.
_SPLITS = (ValueAxis.SEGMENT, ValueAxis.TOUCHPOINT)


async def _protected(
    reader: ValueReader, query: ValueQuery, months: list[date], period: Period, minimum: int, zone: str
) -> dict[BucketKey, _Bucket]:
    where = query.filter.where()
    others = {*where, *query.group_by} - {ValueAxis.REGION}
    if len(others) > 1:
        raise InvalidInput(
            "company-wide experience value combines the region with at most one of segment and touchpoint",
            field="groupBy",
        )
    axis = next(iter(others), None)
    regions = {"region": where[ValueAxis.REGION]} if ValueAxis.REGION in where else {}
    # A row's pattern depends on all of its cells, whatever the request asks: read the rows whole.
    rows: dict[tuple[date, str, NpsCategory], dict[tuple[str, str], ValueFigures]] = {}
    for key, figures in await reader.cells(zone, query.filter.window, months, regions):
        row = rows.setdefault((key.month, key.region, key.category), {})
        row.setdefault((key.segment, key.touchpoint), ValueFigures()).add(figures)
    asked = set(where.get(axis, ())) if axis is not None else set()
    buckets: dict[BucketKey, _Bucket] = {}
    for (month, region, category), atoms in rows.items():
        pattern = suppress(
            [Atom(k, _members(k, f.customers), f.customers) for k, f in atoms.items()],
            axes=2,
            minimum=minimum,
        )
        for (segment, touchpoint), figures in atoms.items():
            values = {ValueAxis.REGION: region, ValueAxis.SEGMENT: segment, ValueAxis.TOUCHPOINT: touchpoint}
            if axis is None:
                shown = pattern.total_shown
            else:
                shown = pattern.shows(_SPLITS.index(axis), values[axis])
                if asked and values[axis] not in asked:
                    continue
            group = tuple(values[a] for a in query.group_by)
            bucket = buckets.setdefault((_when(month, period, query.interval), group, category), _Bucket())
            if shown:
                bucket.figures.add(figures)
                bucket.shown = True
    return buckets


def _members(atom: tuple[str, ...], customers: int) -> frozenset[str] | None:
    """Who an atom's customers are, as far as suppression needs: each customer is in one atom of a row (one
    observation per customer and month), so distinct tokens per atom stand for them exactly."""
    if customers >= CUSTOMERS_KEPT:
        return None
    return frozenset(f"{'/'.join(atom)}#{n}" for n in range(customers))
