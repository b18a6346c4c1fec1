"""The part of the calendar a caller's days and instants may name, checked once where they are parsed.

Python's calendar runs from 0001-01-01 to 9999-12-31 and the database keeps instants in UTC, so an instant (a
cursor's time) must fall inside that calendar once it is moved to UTC. A day (a period's ends, an "as of"
day) is read with its neighbours: the period before it (up to ``MAX_PERIOD_DAYS`` or two quarters earlier),
the bucket after it, its local midnight in any zone. Days therefore stay between ``FIRST_DAY`` and
``LAST_DAY``, a few years inside the calendar's ends, far beyond any date a business has data for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.errors import InvalidInput

FIRST_DAY = date(5, 1, 1)
LAST_DAY = date(9998, 12, 31)


def utc_instant(moment: datetime, *, field: str) -> datetime:
    """``moment`` in UTC; a typed error when it has no zone or its UTC time is outside the calendar."""
    if moment.utcoffset() is None:
        raise InvalidInput("a time needs a zone (e.g. Z or +01:00)", field=field)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput("the time is outside the calendar (years 1 to 9999 in UTC)", field=field) from None


def check_day(day: date, *, field: str) -> date:
    """``day``, or a typed error when it lies outside ``FIRST_DAY`` to ``LAST_DAY``."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(f"days run from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}", field=field)
    return day
