"""Window counts as stored: by day in month rollup documents, and as running totals per region and month.

A touchpoint's rolling window is judged on the sum of its days' window counts. Kept day by day, a window costs
an entry per day with responses, more the more responses there are. Kept as running totals from the first
of the month (for each touchpoint, an entry for every day from its first response of the month to the
month's end), a window costs two entries per touchpoint and month it spans: the total through its last day
less the total through the day before its first. That is as many entries, and documents of the same size,
at ten responses a month as at ten thousand; and a read projects only the days it needs.

Intake counts a response's day into its month rollup document (``stored`` counts under ``days``), as
one of the two documents a response writes; the sweep folds those days into the running totals (see
``domain/aggregates/repository.py``). Counts add up exactly, so totals less totals are exact too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import date, timedelta

from domain.aggregates.periods import Period, add_months
from domain.aggregates.window_counts import NAMES, WindowCounts

# The stored name of each count: one letter, as a month holds up to 31 x 6 of them per document.
_SHORT = {
    "responses": "r",
    "nps_answers": "n",
    "promoters": "p",
    "detractors": "d",
    "csat_answers": "c",
    "csat_bottom": "b",
    "indexed": "i",
    "index_sum": "s",
}
_LONG = {short: name for name, short in _SHORT.items()}
assert set(_SHORT) == set(NAMES)

# Window counts of some days of one month: (day, touchpoint) -> that day's counts.
MonthDays = dict[tuple[date, str], WindowCounts]
# A document's ``days``: day field -> touchpoint -> stored counts.
StoredDays = Mapping[str, Mapping[str, Mapping[str, int]]]


def stored(counts: WindowCounts) -> dict[str, int]:
    """``counts`` as stored: non-zero counts by their one-letter names."""
    return {_SHORT[name]: n for name, n in counts.as_dict().items() if n}


def from_stored(document: Mapping[str, int]) -> WindowCounts:
    return WindowCounts(**{_LONG[short]: int(n) for short, n in document.items()})


def day_field(day: date) -> str:
    return f"d{day.day:02d}"


def day_of(month: date, field: str) -> date:
    """The day of ``month`` a day field names."""
    return month.replace(day=int(field[1:]))


def last_day(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


def running_totals(
    month: date, days: Mapping[tuple[date, str], WindowCounts]
) -> dict[str, dict[str, dict[str, int]]]:
    """The running totals of ``days`` (all in ``month``) as stored: for each touchpoint, every day from its
    first day with responses to the month's end."""
    by_touchpoint: dict[str, dict[date, WindowCounts]] = {}
    for (day, touchpoint), counts in days.items():
        by_touchpoint.setdefault(touchpoint, {})[day] = counts
    totals: dict[str, dict[str, dict[str, int]]] = {}
    end = last_day(month)
    for touchpoint, counts_of in sorted(by_touchpoint.items()):
        total = WindowCounts()
        day = min(counts_of)
        while day <= end:
            if day in counts_of:
                total.add(counts_of[day])
            totals.setdefault(day_field(day), {})[touchpoint] = stored(total)
            day += timedelta(days=1)
    return dict(sorted(totals.items()))


def daily(month: date, totals: StoredDays) -> MonthDays:
    """The day-by-day counts of running totals as stored: differences of consecutive days (days without
    responses left out)."""
    days: MonthDays = {}
    before: dict[str, WindowCounts] = {}
    for field in sorted(totals):
        for touchpoint, entry in totals[field].items():
            total = from_stored(entry)
            day_counts = replace(total)
            if (earlier := before.get(touchpoint)) is not None:
                day_counts.subtract(earlier)
            before[touchpoint] = total
            if day_counts.responses:
                days[(day_of(month, field), touchpoint)] = day_counts
    return days


def _through(totals: StoredDays, day: date, touchpoint: str) -> WindowCounts:
    """The touchpoint's total from the first of the month through ``day``: none stored means no response
    yet that month (entries run from the first response to the month's end)."""
    entry = totals.get(day_field(day), {}).get(touchpoint)
    return from_stored(entry) if entry is not None else WindowCounts()


def _bounds(month: date, period: Period) -> tuple[date, date | None]:
    """The days whose totals give ``period``'s part of ``month``: its last day there, and the day before
    its first there (None from the first of the month: nothing to take away)."""
    last = min(period.last, last_day(month))
    first = max(period.first, month)
    return last, (first - timedelta(days=1) if first > month else None)


def needed_fields(month: date, periods: Collection[Period]) -> set[str]:
    """The day fields of ``month``'s running totals that sums over ``periods`` read."""
    fields = set()
    for period in periods:
        if period.first <= last_day(month) and period.last >= month:
            last, before = _bounds(month, period)
            fields.add(day_field(last))
            if before is not None:
                fields.add(day_field(before))
    return fields


def span_total(month: date, totals: StoredDays, period: Period, touchpoint: str) -> WindowCounts:
    """The touchpoint's counts over ``period``'s days in ``month``, from the month's running totals."""
    if period.first > last_day(month) or period.last < month:
        return WindowCounts()
    last, before = _bounds(month, period)
    total = _through(totals, last, touchpoint)
    if before is not None:
        total.subtract(_through(totals, before, touchpoint))
    return total
