"""Reporting periods in a time zone: local days, time buckets, the period before, and how rollups cover them.

Aggregates are asked for in whole local days (``first`` to ``last``, both included) of one time zone, so
every bucket boundary is a local midnight and rollups kept per local day and month cover any request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.calendar import check_day
from domain.errors import InvalidInput

# A request reads at most this many days (plus the period before it, for the change figures).
MAX_PERIOD_DAYS = 3 * 366
MAX_DAILY_PERIOD_DAYS = 366


class Interval(StrEnum):
    """The length of a time bucket."""

    DAY = "DAY"
    WEEK = "WEEK"  # ISO weeks, Monday to Sunday
    MONTH = "MONTH"
    QUARTER = "QUARTER"


class Grain(StrEnum):
    """The time span of one rollup cell."""

    DAY = "day"
    MONTH = "month"


def time_zone(name: str) -> ZoneInfo:
    """The zone of an IANA name, or a typed error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory, a name too long for a path
        raise InvalidInput(f"unknown time zone {name!r}", field="timeZone") from None


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    """The calendar day ``instant`` falls on in ``zone``."""
    return instant.astimezone(zone).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def bucket_start(day: date, interval: Interval) -> date:
    """The natural start of the bucket ``day`` falls in."""
    if interval is Interval.DAY:
        return day
    if interval is Interval.WEEK:
        return day - timedelta(days=day.weekday())
    if interval is Interval.MONTH:
        return month_start(day)
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def next_bucket(start: date, interval: Interval) -> date:
    """The natural start of the bucket after the one starting at ``start``."""
    if interval is Interval.DAY:
        return start + timedelta(days=1)
    if interval is Interval.WEEK:
        return start + timedelta(days=7)
    return add_months(start, 1 if interval is Interval.MONTH else 3)


def previous_bucket(start: date, interval: Interval) -> date:
    """The natural start of the bucket before the one starting at ``start``."""
    if interval is Interval.DAY:
        return start - timedelta(days=1)
    if interval is Interval.WEEK:
        return start - timedelta(days=7)
    return add_months(start, -1 if interval is Interval.MONTH else -3)


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as instants in UTC: from its first local midnight up to (excluded) the one after it."""
        start = datetime.combine(self.first, time(), zone).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), zone).astimezone(UTC)
        return start, end

    def checked(self, interval: Interval | None) -> Period:
        """This period, or a typed error when it is reversed, too long, or too near the calendar's ends."""
        check_day(self.first, field="from")
        check_day(self.last, field="to")
        if self.last < self.first:
            raise InvalidInput("the period ends before it starts", field="to")
        longest = MAX_DAILY_PERIOD_DAYS if interval is Interval.DAY else MAX_PERIOD_DAYS
        if self.days > longest:
            raise InvalidInput(f"the period may cover at most {longest} days", field="to")
        return self

    def before(self, interval: Interval | None) -> Period:
        """What a period's figures are compared with.

        Without buckets: the days just before it, as many as it has. With buckets: the whole natural
        bucket before the first one (each later bucket is compared with the bucket before it).
        """
        if interval is None:
            return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))
        start = previous_bucket(bucket_start(self.first, interval), interval)
        return Period(start, bucket_start(self.first, interval) - timedelta(days=1))


def bucket_span(start: date, period: Period, interval: Interval | None) -> Period:
    """The days of the bucket starting at ``start`` that lie in ``period`` (the period itself, unbucketed)."""
    if interval is None:
        return period
    last = next_bucket(start, interval) - timedelta(days=1)
    return Period(max(start, period.first), min(last, period.last))


def buckets(period: Period, interval: Interval | None) -> list[Period]:
    """Every bucket of ``period``, clipped to it, in time order."""
    if interval is None:
        return [period]
    spans = []
    start = bucket_start(period.first, interval)
    while start <= period.last:
        spans.append(bucket_span(start, period, interval))
        start = next_bucket(start, interval)
    return spans


@dataclass(frozen=True, slots=True)
class Slot:
    """One rollup cell's time span: a local day or a local month."""

    grain: Grain
    start: date


def months_of(period: Period) -> list[date]:
    """The first day of every month ``period`` has days in."""
    months = []
    month = month_start(period.first)
    while month <= period.last:
        months.append(month)
        month = add_months(month, 1)
    return months


def cover(period: Period) -> list[Slot]:
    """The fewest rollup spans that make up ``period`` exactly: whole months inside it, days at its edges."""
    slots: list[Slot] = []
    day = period.first
    while day <= period.last:
        next_month = add_months(day, 1)
        if day.day == 1 and next_month - timedelta(days=1) <= period.last:
            slots.append(Slot(Grain.MONTH, day))
            day = next_month
        else:
            slots.append(Slot(Grain.DAY, day))
            day += timedelta(days=1)
    return slots


def daily(period: Period) -> list[Slot]:
    """Every day of ``period`` as a rollup span (for buckets that do not align with months)."""
    return [Slot(Grain.DAY, period.first + timedelta(days=n)) for n in range(period.days)]
