"""The rounding rule and the order statistics every aggregate uses, exact over integer counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from fractions import Fraction
from typing import TypeVar

DECIMALS = 4


def rounded(value: Fraction) -> float:
    """The one rounding rule for means, shares and scores: 4 decimals, ties to even, from the exact value."""
    return float(round(value, DECIMALS))


def ratio(part: int | Fraction, whole: int) -> float | None:
    """``part / whole`` rounded, or None for an empty whole."""
    return rounded(Fraction(part) / whole) if whole else None


def percentile(counts: Sequence[int], lowest: int, p: int) -> int | None:
    """Nearest-rank percentile of a histogram whose first entry counts the score ``lowest``.

    The smallest score with at least p % of the responses at or below it; None without responses.
    """
    total = sum(counts)
    if not total:
        return None
    rank = max(1, -(-p * total // 100))  # ceil(p * total / 100), at least the first response
    seen = 0
    for offset, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return lowest + offset
    raise AssertionError("unreachable: the ranks cover every response")


N = TypeVar("N", int, Fraction, timedelta)
_MICROSECOND = timedelta(microseconds=1)


def duration_in(unit: timedelta, elapsed: timedelta) -> Fraction:
    """``elapsed`` in ``unit``s, exactly (time is kept to the microsecond)."""
    return Fraction(elapsed // _MICROSECOND, unit // _MICROSECOND)


def nearest_rank(values: Sequence[N], p: int) -> N | None:
    """Nearest-rank percentile of raw values, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, -(-p * len(ordered) // 100)) - 1]
