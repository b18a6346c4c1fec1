"""Churn by period: customers who became churned, and the rate against the active base."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.aggregates.disclosure import Atom, Disclosure, months_of, publishable_period, suppress
from domain.aggregates.groups import CustomerAxis
from domain.aggregates.periods import (
    Interval,
    Period,
    add_months,
    bucket_span,
    bucket_start,
    buckets,
    local_day,
    time_zone,
)
from domain.aggregates.stats import ratio
from domain.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """When a customer joined and, if so, churned, with what it is grouped by."""

    customer_id: str
    region: str
    segment: str
    joined_at: datetime
    churned_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChurnFilter:
    """The period (local days) and, optionally, some regions and segments."""

    period: Period
    time_zone: str = "UTC"
    regions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChurnFigures:
    """A bucket's base, newcomers and churned customers (whenever they joined)."""

    active_at_start: int
    joined: int
    churned: int
    rate: float | None  # churned / active at start


@dataclass(frozen=True, slots=True)
class ChurnRow:
    """One time bucket and group, with its figures unless suppressed."""

    period: Period
    region: str | None
    segment: str | None
    figures: ChurnFigures | None  # None: suppressed


class LifecycleReader(Protocol):
    """Every customer's lifecycle in the caller's scope, optionally of some regions and segments."""

    async def lifecycles(self, *, regions: Sequence[str], segments: Sequence[str]) -> list[Lifecycle]: ...


Cell = tuple[Period, str | None, str | None]  # a time span, and the region and segment when split by them


async def churn(
    reader: LifecycleReader,
    where: ChurnFilter,
    by: Sequence[CustomerAxis],
    interval: Interval | None,
    *,
    disclosure: Disclosure,
    now: datetime,
    reporting_zone: str,
) -> list[ChurnRow]:
    """Rows per time bucket and group, in time then group order.

    A bucket's population is the customers active at its start plus those who joined during it; fewer
    of them than the threshold and it is suppressed. Protected callers get the publication lattice: month
    cells of each region split by segment, every figure adding up shown cells (a bucket's base is the base
    of its first month's shown cells).
    """
    if disclosure.protected:
        return await _protected(reader, where, by, interval, disclosure.min_customers, now, reporting_zone)
    period = where.period.checked(interval)
    zone = time_zone(where.time_zone)
    customers = await reader.lifecycles(regions=where.regions, segments=where.segments)
    split = (CustomerAxis.REGION in by, CustomerAxis.SEGMENT in by)
    found = _cells(customers, buckets(period, interval), zone, split)
    return [
        ChurnRow(span, region, segment, counts.figures() if counts.enough(disclosure.min_customers) else None)
        for (span, region, segment), counts in sorted(
            found.items(), key=lambda kv: (kv[0][0].first, str(kv[0][1:]))
        )
    ]


async def _protected(
    reader: LifecycleReader,
    where: ChurnFilter,
    by: Sequence[CustomerAxis],
    interval: Interval | None,
    minimum: int,
    now: datetime,
    zone_name: str,
) -> list[ChurnRow]:
    if where.time_zone != zone_name:
        raise InvalidInput(f"company-wide aggregates are kept in {zone_name} only", field="timeZone")
    zone = time_zone(zone_name)
    period = publishable_period(where.period, interval, today=local_day(now, zone))
    months = [Period(m, add_months(m, 1) - timedelta(days=1)) for m in months_of(period)]
    # Every segment, so that each row's pattern is the same whatever the request filters.
    customers = await reader.lifecycles(regions=where.regions, segments=())
    cells = _cells(customers, months, zone, (True, True))
    shown = _shown_cells(cells, minimum)
    totals: dict[tuple[date, str | None, str | None], _Counts] = {}
    for (month, region, segment), counts in cells.items():
        if where.segments and segment not in where.segments:
            continue
        when = bucket_start(month.first, interval) if interval else period.first
        key = (
            when,
            region if CustomerAxis.REGION in by else None,
            segment if CustomerAxis.SEGMENT in by else None,
        )
        total = totals.setdefault(key, _Counts())
        if (month, region, segment) in shown:
            total.add(counts, first_month=month.first == max(when, period.first))
    return [
        ChurnRow(
            bucket_span(when, period, interval), region, segment, total.figures() if total.shown else None
        )
        for (when, region, segment), total in sorted(
            totals.items(), key=lambda kv: (kv[0][0], str(kv[0][1:]))
        )
    ]


@dataclass(slots=True)
class _Counts:
    """A cell's (or bucket's) base, newcomers and churned customers, and who they are."""

    active: int = 0
    joined: int = 0
    churned: int = 0
    population: set[str] = field(default_factory=set)
    shown: bool = False  # for a bucket: whether any shown cell was added into it

    def enough(self, minimum: int) -> bool:
        return len(self.population) >= minimum

    def add(self, other: _Counts, *, first_month: bool) -> None:
        self.active += other.active if first_month else 0
        self.joined += other.joined
        self.churned += other.churned
        self.shown = True

    def figures(self) -> ChurnFigures:
        return ChurnFigures(self.active, self.joined, self.churned, ratio(self.churned, self.active))


def _cells(
    customers: Sequence[Lifecycle], spans: Sequence[Period], zone: ZoneInfo, split: tuple[bool, bool]
) -> dict[Cell, _Counts]:
    """Counts per time span and group (region and segment, where ``split`` says), with who they count."""
    cells: dict[Cell, _Counts] = {}
    for span in spans:
        start, end = span.bounds(zone)
        for customer in customers:
            gone = customer.churned_at is not None and customer.churned_at < start
            active = customer.joined_at < start and not gone
            joined = start <= customer.joined_at < end
            if not active and not joined:
                continue
            key = (span, customer.region if split[0] else None, customer.segment if split[1] else None)
            counts = cells.setdefault(key, _Counts())
            counts.active += active
            counts.joined += joined
            counts.churned += customer.churned_at is not None and start <= customer.churned_at < end
            counts.population.add(customer.customer_id)
    return cells


def _shown_cells(cells: Mapping[Cell, _Counts], minimum: int) -> set[Cell]:
    """The month cells of each region, split by segment, that the publication lattice shows."""
    rows: dict[tuple[Period, str | None], dict[str, _Counts]] = {}
    for (month, region, segment), counts in cells.items():
        rows.setdefault((month, region), {})[segment or ""] = counts
    shown: set[Cell] = set()
    for (month, region), atoms in rows.items():
        row = [Atom((s,), frozenset(c.population), len(c.population)) for s, c in atoms.items()]
        pattern = suppress(row, axes=1, minimum=minimum)
        shown.update((month, region, s) for s in atoms if pattern.shows(0, s))
    return shown
