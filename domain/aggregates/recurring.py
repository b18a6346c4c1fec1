"""Recurring issues: root causes by period, their share, their change against a baseline, and which rise.

Counted from the root causes recorded on operational alerts and complaint cases (by the local day each cause
was recorded), so a request costs the causes of its period and baseline. The baseline of a bucket is the
``BASELINE_PERIODS`` natural buckets before it (for the whole period, as many periods of its length); a
cause rises when its count is significantly above what its baseline rate predicts (``aggregates.rising``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.aggregates.disclosure import Atom, Disclosure, publishable_period, suppress
from domain.aggregates.periods import (
    Interval,
    Period,
    add_months,
    bucket_start,
    buckets,
    local_day,
    month_start,
    months_of,
    previous_bucket,
    time_zone,
)
from domain.aggregates.rising import is_rising, rise_p_value
from domain.aggregates.stats import rounded
from domain.errors import InvalidInput
from domain.root_cause import Caused

BASELINE_PERIODS = 4


class IssueAxis(StrEnum):
    """What recurring issues are grouped by: the cause (with its category), its category, the region."""

    CAUSE = "cause"
    CATEGORY = "category"
    REGION = "region"


# Without a period, managers get the last four weeks up to yesterday.
DEFAULT_DAYS = 28


@dataclass(frozen=True, slots=True)
class RecurringFilter:
    """Causes recorded in the period (local days; None: the ``DEFAULT_DAYS`` up to yesterday), of some
    regions and categories."""

    period: Period | None
    time_zone: str = "UTC"
    regions: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IssueFigures:
    """One cause's (or category's) count in a bucket against its baseline."""

    count: int
    share: float  # of the bucket's causes (of the shown ones, for the board and BI)
    baseline_count: int  # over the baseline periods
    expected: float  # what the baseline rate predicts for this bucket's days
    change: float  # count minus expected
    p_value: float
    rising: bool


@dataclass(frozen=True, slots=True)
class IssueRow:
    """One time bucket and group, with its figures unless suppressed."""

    period: Period
    cause: str | None
    category: str | None
    region: str | None
    figures: IssueFigures | None  # None: suppressed


class CausedReader(Protocol):
    """Reads the root causes recorded between two instants, in the caller's scope."""

    async def caused_between(
        self, start: datetime, end: datetime, *, regions: Sequence[str]
    ) -> list[Caused]: ...


Key = tuple[str | None, str | None, str | None]  # cause, category, region: each when grouped by it


async def recurring_issues(
    readers: Sequence[CausedReader],
    where: RecurringFilter,
    group_by: Sequence[IssueAxis],
    interval: Interval | None,
    *,
    disclosure: Disclosure,
    now: datetime,
    reporting_zone: str,
    listed: Callable[[str], bool] = lambda _: True,
) -> list[IssueRow]:
    """Rows per time bucket and cause (or category), most first, rising ones flagged.

    The board and BI get the publication lattice: rows are a month and region, split by category and cause.
    """
    axes = tuple(dict.fromkeys(group_by or (IssueAxis.CAUSE,)))
    if IssueAxis.CAUSE not in axes and IssueAxis.CATEGORY not in axes:
        axes = (IssueAxis.CAUSE, *axes)
    if disclosure.protected:
        if where.time_zone != reporting_zone:
            raise InvalidInput(f"company-wide aggregates are kept in {reporting_zone} only", field="timeZone")
        if where.period is None:
            raise InvalidInput("company-wide recurring issues need a period of whole months", field="from")
        zone_name = reporting_zone
        period = publishable_period(where.period, interval, today=local_day(now, time_zone(zone_name)))
    else:
        zone_name = where.time_zone
        last = local_day(now, time_zone(zone_name)) - timedelta(days=1)
        period = (where.period or Period(last - timedelta(days=DEFAULT_DAYS - 1), last)).checked(interval)
    zone = time_zone(zone_name)
    spans = buckets(period, interval)
    earliest = min(_baseline(span, interval)[0].first for span in spans)
    start, _ = Period(earliest, earliest).bounds(zone)
    _, end = period.bounds(zone)
    found: list[Caused] = []
    for reader in readers:
        found += await reader.caused_between(start, end, regions=where.regions)
    found = [c for c in found if listed(c.cause.code)]
    hidden: list[Caused] = []
    if disclosure.protected:
        found, hidden = _lattice(found, axes, disclosure.min_customers, zone_name)
    if where.categories:
        found = [c for c in found if c.cause.category in where.categories]
        hidden = [c for c in hidden if c.cause.category in where.categories]
    by_day = _by_day(found, axes, zone)
    hidden_by_day = _by_day(hidden, axes, zone)
    minimum = 1 if disclosure.protected else disclosure.min_customers
    rows: list[IssueRow] = []
    for span in spans:
        baseline, baseline_days = _baseline(span, interval)
        current = _count(by_day, span)
        before = _count(by_day, baseline)
        shown = {
            key: items
            for key, items in current.items()
            if len({c.customer_id for c in items if c.customer_id}) >= minimum
        }
        # Suppressed rows stay out of the shares, or the shares would give their counts away.
        total = sum(len(items) for items in shown.values())
        bucket = [
            IssueRow(
                span, *key, figures=_figures(len(items), total, len(before.get(key, [])), span, baseline_days)
            )
            for key, items in shown.items()
        ]
        bucket.sort(
            key=lambda r: (
                -(r.figures.count if r.figures else 0),
                str(r.cause),
                str(r.category),
                str(r.region),
            )
        )
        withheld = (set(current) | set(_count(hidden_by_day, span))) - set(shown)
        bucket += [IssueRow(span, *key, figures=None) for key in sorted(withheld, key=str)]
        rows += bucket
    return rows


def _key(item: Caused, axes: Sequence[IssueAxis]) -> Key:
    return (
        item.cause.code if IssueAxis.CAUSE in axes else None,
        item.cause.category if IssueAxis.CAUSE in axes or IssueAxis.CATEGORY in axes else None,
        item.region if IssueAxis.REGION in axes else None,
    )


def _baseline(span: Period, interval: Interval | None) -> tuple[Period, int]:
    """The days of the baseline periods before a bucket, and their number."""
    if interval is None:
        if span.first.day == 1 and span.last + timedelta(days=1) == add_months(span.last, 1):
            months = len(months_of(span))
            first = add_months(span.first, -BASELINE_PERIODS * months)
        else:
            first = span.first - timedelta(days=BASELINE_PERIODS * span.days)
        before = Period(first, span.first - timedelta(days=1))
        return before, before.days
    natural = bucket_start(span.first, interval)
    first = natural
    for _ in range(BASELINE_PERIODS):
        first = previous_bucket(first, interval)
    before = Period(first, natural - timedelta(days=1))
    return before, before.days


def _by_day(
    items: list[Caused], axes: Sequence[IssueAxis], zone: ZoneInfo
) -> dict[tuple[date, Key], list[Caused]]:
    by_day: dict[tuple[date, Key], list[Caused]] = {}
    for item in items:
        by_day.setdefault((local_day(item.cause.at, zone), _key(item, axes)), []).append(item)
    return by_day


def _count(by_day: dict[tuple[date, Key], list[Caused]], span: Period) -> dict[Key, list[Caused]]:
    counted: dict[Key, list[Caused]] = {}
    for (day, key), items in by_day.items():
        if day in span:
            counted.setdefault(key, []).extend(items)
    return counted


def _figures(count: int, total: int, baseline: int, span: Period, baseline_days: int) -> IssueFigures:
    days = span.days
    expected = Fraction(baseline * days, baseline_days) if baseline_days else Fraction(0)
    return IssueFigures(
        count=count,
        share=rounded(Fraction(count, total)),
        baseline_count=baseline,
        expected=rounded(expected),
        change=rounded(count - expected),
        p_value=round(rise_p_value(count, baseline, days, baseline_days), 6),
        rising=is_rising(count, baseline, days, baseline_days),
    )


def _lattice(
    found: list[Caused], axes: Sequence[IssueAxis], minimum: int, zone: str
) -> tuple[list[Caused], list[Caused]]:
    """The causes of shown and of suppressed cells: rows are a month and region, split by category and by
    cause (causes nest in categories; the pattern is checked for both at once). The cells asked for are the
    causes', or the categories' when grouped by category only."""
    rows: dict[tuple[date, str], dict[tuple[str, str], list[Caused]]] = {}
    for item in found:
        row = (month_start(local_day(item.cause.at, time_zone(zone))), item.region)
        rows.setdefault(row, {}).setdefault((item.cause.category, item.cause.code), []).append(item)
    axis = 1 if IssueAxis.CAUSE in axes else 0
    shown: list[Caused] = []
    hidden: list[Caused] = []
    for atoms in rows.values():
        keys = list(atoms)
        pattern = suppress(
            [
                Atom(k, frozenset(c.customer_id for c in atoms[k] if c.customer_id), len(atoms[k]))
                for k in keys
            ],
            axes=2,
            minimum=minimum,
        )
        for key, items in atoms.items():
            (shown if pattern.shows(axis, key[axis]) else hidden).extend(items)
    return shown, hidden
