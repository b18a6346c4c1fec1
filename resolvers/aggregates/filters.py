"""Input checks shared by the aggregate queries."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import InvalidInput

# A filter naming more values than this is not a filter a dashboard needs; refuse it before reading.
MAX_FILTER_VALUES = 50


def bounded(values: Sequence[str] | None, field: str) -> tuple[str, ...]:
    """The distinct values asked for, or a typed error when there are too many."""
    distinct = tuple(dict.fromkeys(values or ()))
    if len(distinct) > MAX_FILTER_VALUES:
        raise InvalidInput(f"at most {MAX_FILTER_VALUES} values", field=field)
    return distinct
