"""Days, instants and zones a caller may give, and everything computed from them staying in the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.aggregates.periods import MAX_PERIOD_DAYS, Interval, Period, buckets, cover, time_zone
from domain.calendar import FIRST_DAY, LAST_DAY, utc_instant
from domain.errors import InvalidInput
from domain.paging import Position

INTERVALS = [None, *Interval]
EXTREME_ZONES = ["Etc/GMT-14", "Etc/GMT+12", "Pacific/Kiritimati", "Pacific/Niue", "UTC"]


def everything_about(period: Period, interval: Interval | None, zone: str) -> None:
    """Every computation an aggregate makes from a checked period."""
    before = period.before(interval)
    for span in [*buckets(period, interval), *buckets(before, interval)]:
        span.bounds(time_zone(zone))
    cover(period)
    cover(before)


@pytest.mark.parametrize("zone", EXTREME_ZONES)
@pytest.mark.parametrize("interval", INTERVALS)
def test_the_longest_periods_at_the_first_and_last_day_compute_in_every_zone(
    interval: Interval | None, zone: str
) -> None:
    longest = timedelta(days=365 if interval is Interval.DAY else MAX_PERIOD_DAYS - 1)
    for period in (Period(FIRST_DAY, FIRST_DAY + longest), Period(LAST_DAY - longest, LAST_DAY)):
        everything_about(period.checked(interval), interval, zone)


@pytest.mark.parametrize(
    ("period", "field"),
    [
        (Period(FIRST_DAY - timedelta(days=1), FIRST_DAY), "from"),
        (Period(date.min, date(1, 1, 31)), "from"),
        (Period(LAST_DAY, LAST_DAY + timedelta(days=1)), "to"),
        (Period(date(9999, 12, 1), date.max), "from"),
        (Period(date(9998, 12, 1), date.max), "to"),
    ],
)
def test_a_period_beyond_the_first_or_last_day_is_refused_on_its_field(period: Period, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        period.checked(None)
    assert refused.value.field == field


@settings(max_examples=300, deadline=None)
@given(
    first=st.dates(),
    last=st.dates(),
    interval=st.sampled_from(INTERVALS),
    zone=st.sampled_from(EXTREME_ZONES) | st.timezone_keys(),
)
def test_a_period_is_refused_or_everything_about_it_computes(
    first: date, last: date, interval: Interval | None, zone: str
) -> None:
    try:
        period = Period(first, last).checked(interval)
    except InvalidInput as error:
        refused: str | None = error.field
    else:
        refused = None
        everything_about(period, interval, zone)
    assert refused in (None, "from", "to")


@pytest.mark.parametrize(
    "name", ["America", "Etc", "zone.tab", "", "../etc", "Europe/" + "x" * 300, "a\x00b"]
)
def test_a_name_that_is_no_iana_zone_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        time_zone(name)
    assert refused.value.field == "timeZone"


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(), minutes=st.integers(-(24 * 60 - 1), 24 * 60 - 1))
def test_an_instant_with_a_zone_is_in_utc_or_refused(moment: datetime, minutes: int) -> None:
    local = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    try:
        instant: datetime | None = utc_instant(local, field="after")
        refused: str | None = None
    except InvalidInput as error:
        instant, refused = None, error.field
    if instant is None:
        # Only a time within a day of the calendar's ends can fall outside it in UTC.
        assert refused == "after"
        assert not datetime.min + timedelta(days=1) < moment < datetime.max - timedelta(days=1)
    else:
        assert instant == local
        assert instant.tzinfo is UTC


def test_an_instant_without_a_zone_is_refused() -> None:
    with pytest.raises(InvalidInput):
        utc_instant(datetime(2026, 11, 1, 12), field="after")


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "2026-11-01T12:00"])
def test_a_cursor_time_outside_the_calendar_or_without_zone_is_malformed(at: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Position.parse(at, "x")
    assert refused.value.field == "after"


def test_a_cursor_time_at_the_calendar_edges_in_utc_is_a_position() -> None:
    for moment in (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)):
        assert Position.parse(moment.isoformat(), "x") == Position(moment, "x")
