"""Churn by period: customers who became churned, and the rate against the active base.

Counted from the lifecycle rollup: per local day and month of each reporting time zone, region and segment,
how many customers joined and how many churned (by their current region, segment and churn date, as the
raw count reads them). A bucket's newcomers and churned customers are sums of cells; the customers active at
its start are those who joined before it minus those who churned before it, a running sum over the cells
before it. A customer churns no earlier than it joins (``Customer.churn_dated`` dates churn at the change),
so everyone churned before a day also joined before it. A request reads a few cells per month of history
and group, however many customers there are. Time zones kept in no rollup, and a single customer's scope,
are counted from the customers themselves.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.aggregates.disclosure import Atom, Disclosure, publishable_period, suppress
from domain.aggregates.groups import CustomerAxis
from domain.aggregates.periods import (
    Grain,
    Interval,
    Period,
    Slot,
    add_months,
    bucket_span,
    bucket_start,
    buckets,
    local_day,
    month_start,
    months_of,
    time_zone,
)
from domain.aggregates.stats import ratio
from domain.aggregates.tally import CUSTOMERS_KEPT
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


@dataclass(frozen=True, slots=True)
class LifecycleKey:
    """One lifecycle rollup cell: a local day or month of a reporting time zone, a region and a segment."""

    zone: str
    slot: Slot
    region: str
    segment: str


@dataclass(frozen=True, slots=True)
class LifecycleCounts:
    """How many customers joined, and how many churned, in one lifecycle cell."""

    joined: int = 0
    churned: int = 0

    def plus(self, other: LifecycleCounts, sign: int = 1) -> LifecycleCounts:
        return LifecycleCounts(self.joined + sign * other.joined, self.churned + sign * other.churned)

    def __bool__(self) -> bool:
        return bool(self.joined or self.churned)


class LifecycleCellReader(Protocol):
    """The lifecycle rollup cells of one reporting time zone, narrowed to the caller's scope."""

    @property
    def zones(self) -> tuple[str, ...]:
        """The reporting time zones cells are kept in."""
        ...

    async def lifecycle_cells(
        self,
        zone: str,
        *,
        months_before: date,
        days_in: Sequence[date],
        regions: Sequence[str],
        segments: Sequence[str],
    ) -> list[tuple[LifecycleKey, LifecycleCounts]] | None:
        """Month cells before ``months_before`` and day cells of the months ``days_in`` (regions and segments
        among those given, if any); None when the caller's scope is not a set of regions (one customer)."""
        ...


def event_day(instant: datetime, zone: ZoneInfo) -> date:
    """The local day whose span (``Period.bounds``, from its local midnight) holds ``instant``.

    ``local_day`` but for the midnights a daylight-saving change skips, where the two can differ by a day.
    """
    day = local_day(instant, zone)
    if Period(day, day).bounds(zone)[0] > instant:
        return day - timedelta(days=1)
    if Period(day, day).bounds(zone)[1] <= instant:
        return day + timedelta(days=1)
    return day


def lifecycle_cells(lifecycle: Lifecycle, zones: Sequence[str]) -> dict[LifecycleKey, LifecycleCounts]:
    """The cells one customer counts in: its joining and (if churned) its churn, each zone's day and month."""
    cells: dict[LifecycleKey, LifecycleCounts] = {}
    events = [(lifecycle.joined_at, LifecycleCounts(joined=1))]
    if lifecycle.churned_at is not None:
        events.append((lifecycle.churned_at, LifecycleCounts(churned=1)))
    for zone in zones:
        for instant, counts in events:
            day = event_day(instant, time_zone(zone))
            for slot in (Slot(Grain.DAY, day), Slot(Grain.MONTH, month_start(day))):
                key = LifecycleKey(zone, slot, lifecycle.region, lifecycle.segment)
                cells[key] = cells.get(key, LifecycleCounts()).plus(counts)
    return cells


def count_lifecycle(
    cells: dict[LifecycleKey, LifecycleCounts], lifecycle: Lifecycle, zones: Sequence[str], sign: int = 1
) -> None:
    """Count one customer into ``cells`` (``sign`` -1: take it out, as when it moves or its churn changes)."""
    for key, counts in lifecycle_cells(lifecycle, zones).items():
        cells[key] = cells.get(key, LifecycleCounts()).plus(counts, sign)


def lifecycle_changes(
    before: Sequence[Lifecycle], after: Sequence[Lifecycle], zones: Sequence[str]
) -> dict[LifecycleKey, LifecycleCounts]:
    """What changing customers from ``before`` to ``after`` adds to each cell (cells that change only)."""
    cells: dict[LifecycleKey, LifecycleCounts] = {}
    for lifecycle in before:
        count_lifecycle(cells, lifecycle, zones, -1)
    for lifecycle in after:
        count_lifecycle(cells, lifecycle, zones)
    return {key: counts for key, counts in cells.items() if counts}


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
    cells: LifecycleCellReader | None = None,
) -> list[ChurnRow]:
    """Rows per time bucket and group, in time then group order.

    A bucket's population is the customers active at its start plus those who joined during it; fewer
    of them than the threshold and it is suppressed. Protected callers get the publication lattice: month
    cells of each region split by segment, every figure adding up shown cells (a bucket's base is the base
    of its first month's shown cells). Counted from the lifecycle ``cells`` where they are kept for the
    zone, else from every customer's lifecycle (the same figures).
    """
    if disclosure.protected:
        return await _protected(
            reader, cells, where, by, interval, disclosure.min_customers, now, reporting_zone
        )
    period = where.period.checked(interval)
    split = (CustomerAxis.REGION in by, CustomerAxis.SEGMENT in by)
    found = await _counted(reader, cells, where, buckets(period, interval), where.time_zone, split)
    return [
        ChurnRow(span, region, segment, counts.figures() if counts.enough(disclosure.min_customers) else None)
        for (span, region, segment), counts in sorted(
            found.items(), key=lambda kv: (kv[0][0].first, str(kv[0][1:]))
        )
    ]


async def _protected(
    reader: LifecycleReader,
    cells_reader: LifecycleCellReader | None,
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
    every_segment = ChurnFilter(where.period, zone_name, where.regions, ())
    cells = await _counted(reader, cells_reader, every_segment, months, zone_name, (True, True))
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
    """A cell's (or bucket's) base, newcomers and churned customers."""

    active: int = 0
    joined: int = 0
    churned: int = 0
    shown: bool = False  # for a bucket: whether any shown cell was added into it

    @property
    def population(self) -> int:
        """Distinct customers: those active at the start joined before it, the newcomers during it."""
        return self.active + self.joined

    def enough(self, minimum: int) -> bool:
        return self.population >= minimum

    def add(self, other: _Counts, *, first_month: bool) -> None:
        self.active += other.active if first_month else 0
        self.joined += other.joined
        self.churned += other.churned
        self.shown = True

    def figures(self) -> ChurnFigures:
        return ChurnFigures(self.active, self.joined, self.churned, ratio(self.churned, self.active))


async def _counted(
    reader: LifecycleReader,
    cells: LifecycleCellReader | None,
    where: ChurnFilter,
    spans: Sequence[Period],
    zone: str,
    split: tuple[bool, bool],
) -> dict[Cell, _Counts]:
    """Counts per time span (consecutive) and group, from the rollup where it can, else from the customers."""
    if cells is not None and zone in cells.zones:
        boundaries = [span.first for span in spans] + [spans[-1].last + timedelta(days=1)]
        found = await cells.lifecycle_cells(
            zone,
            months_before=max(month_start(day) for day in boundaries),
            days_in=sorted({month_start(day) for day in boundaries if day.day != 1}),
            regions=where.regions,
            segments=where.segments,
        )
        if found is not None:
            return _from_rollup(found, spans, split)
    customers = await reader.lifecycles(regions=where.regions, segments=where.segments)
    return _cells(customers, spans, time_zone(zone), split)


def _from_rollup(
    found: Sequence[tuple[LifecycleKey, LifecycleCounts]], spans: Sequence[Period], split: tuple[bool, bool]
) -> dict[Cell, _Counts]:
    """Counts per span and group from lifecycle cells: running sums of joined and churned up to each edge."""
    groups: dict[tuple[str | None, str | None], _Running] = {}
    for key, counts in found:
        group = (key.region if split[0] else None, key.segment if split[1] else None)
        groups.setdefault(group, _Running()).add(key.slot, counts)
    cells: dict[Cell, _Counts] = {}
    for (region, segment), running in groups.items():
        running.sort()
        edges = [running.before(span.first) for span in spans]
        edges.append(running.before(spans[-1].last + timedelta(days=1)))
        for n, span in enumerate(spans):
            start, end = edges[n], edges[n + 1]
            figures = _Counts(
                start.joined - start.churned, end.joined - start.joined, end.churned - start.churned
            )
            if figures.population:
                cells[(span, region, segment)] = figures
    return cells


class _Running:
    """One group's cells as running sums: month cells in month order, and each month's day cells."""

    def __init__(self) -> None:
        self._months: dict[date, LifecycleCounts] = {}
        self._days: dict[date, dict[date, LifecycleCounts]] = {}
        self._month_starts: list[date] = []
        self._month_sums: list[LifecycleCounts] = []
        self._day_starts: dict[date, list[date]] = {}
        self._day_sums: dict[date, list[LifecycleCounts]] = {}

    def add(self, slot: Slot, counts: LifecycleCounts) -> None:
        into = (
            self._months if slot.grain is Grain.MONTH else self._days.setdefault(month_start(slot.start), {})
        )
        into[slot.start] = into.get(slot.start, LifecycleCounts()).plus(counts)

    def sort(self) -> None:
        self._month_starts, self._month_sums = _running(self._months)
        for month, days in self._days.items():
            self._day_starts[month], self._day_sums[month] = _running(days)

    def before(self, day: date) -> LifecycleCounts:
        """Everyone who joined, and who churned, before local ``day``: whole months, then its month's days."""
        month = month_start(day)
        total = _sum_before(self._month_starts, self._month_sums, month)
        if day != month:
            total = total.plus(
                _sum_before(self._day_starts.get(month, []), self._day_sums.get(month, []), day)
            )
        return total


def _running(cells: Mapping[date, LifecycleCounts]) -> tuple[list[date], list[LifecycleCounts]]:
    starts = sorted(cells)
    sums: list[LifecycleCounts] = []
    total = LifecycleCounts()
    for start in starts:
        total = total.plus(cells[start])
        sums.append(total)
    return starts, sums


def _sum_before(starts: list[date], sums: list[LifecycleCounts], day: date) -> LifecycleCounts:
    n = bisect.bisect_left(starts, day)
    return sums[n - 1] if n else LifecycleCounts()


def _cells(
    customers: Sequence[Lifecycle], spans: Sequence[Period], zone: ZoneInfo, split: tuple[bool, bool]
) -> dict[Cell, _Counts]:
    """Counts per time span and group (region and segment, where ``split`` says), from every customer."""
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
    return cells


def _shown_cells(cells: Mapping[Cell, _Counts], minimum: int) -> set[Cell]:
    """The month cells of each region, split by segment, that the publication lattice shows.

    ``suppress`` weighs cells by their distinct customers, which the rollup does not keep: only how many.
    The segment cells of a month and region are disjoint (a customer has one segment), so each is given
    as many placeholder customers of its own as it counts, up to the number a tally keeps (None beyond it,
    as for a tally): unions and their sizes are then those of the real customers, and so is the pattern.
    """
    rows: dict[tuple[Period, str | None], dict[str, _Counts]] = {}
    for (month, region, segment), counts in cells.items():
        rows.setdefault((month, region), {})[segment or ""] = counts
    shown: set[Cell] = set()
    for (month, region), atoms in rows.items():
        row = [Atom((s,), _placeholders(s, c.population), c.population) for s, c in atoms.items()]
        pattern = suppress(row, axes=1, minimum=minimum)
        shown.update((month, region, s) for s in atoms if pattern.shows(0, s))
    return shown


def _placeholders(segment: str, count: int) -> frozenset[str] | None:
    """``count`` stand-ins for a segment cell's customers, distinct from every other cell's."""
    return None if count >= CUSTOMERS_KEPT else frozenset(f"{segment}#{n}" for n in range(count))
