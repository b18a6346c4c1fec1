"""Input parts shared by the aggregate queries: the period in a time zone, and bounded value lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

import strawberry

from domain.aggregates.periods import Period
from domain.errors import InvalidInput
from resolvers.enums import CustomerAxis

CustomerGroupBy = Annotated[
    list[CustomerAxis] | None, strawberry.argument(description="Dimensions to group by.")
]

# A filter naming more values than this is not a filter a dashboard needs; refuse it before reading.
MAX_FILTER_VALUES = 50


@strawberry.input(description="A period of whole local days in a time zone.")
class PeriodFilter:
    from_: date = strawberry.field(name="from", description="First day of the period (local to timeZone).")
    to: date = strawberry.field(description="Last day of the period, included.")
    time_zone: str = strawberry.field(
        default="UTC", description="IANA time zone of the days and buckets, e.g. Europe/Berlin."
    )

    @property
    def period(self) -> Period:
        return Period(self.from_, self.to)


def bounded(values: Sequence[str] | None, field: str) -> tuple[str, ...]:
    """The distinct values asked for, or a typed error when there are too many."""
    distinct = tuple(dict.fromkeys(values or ()))
    if len(distinct) > MAX_FILTER_VALUES:
        raise InvalidInput(f"at most {MAX_FILTER_VALUES} values", field=field)
    return distinct


def values(members: Sequence[object] | None, field: str) -> tuple[str, ...]:
    """Enum members asked for, as their stored values."""
    return bounded([str(getattr(m, "value", m)) for m in members or ()], field)
