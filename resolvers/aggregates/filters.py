"""Input parts shared by the aggregate queries: the period in a time zone, and bounded value lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

import strawberry

from auth.policy import aggregate_guarantee
from domain.aggregates.disclosure import Disclosure
from domain.aggregates.periods import Period
from domain.errors import InvalidInput
from resolvers.context import Info
from resolvers.enums import CustomerAxis

CustomerGroupBy = Annotated[
    list[CustomerAxis] | None, strawberry.argument(description="Dimensions to group by.")
]


def disclosure_for(info: Info) -> Disclosure:
    """How the caller's aggregates are computed: its role's guarantee and the minimum of customers."""
    context = info.context
    return Disclosure(aggregate_guarantee(context.principal), context.settings.aggregate_min_customers)


def reporting_zone(info: Info) -> str:
    """The time zone company-wide aggregates are reported in: the first one rollups are kept in."""
    return info.context.aggregate_repos.rollups.zones[0]


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
