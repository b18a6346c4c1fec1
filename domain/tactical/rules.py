"""Which cells moved a window's figure most, and the windows of days a standard looks at."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from fractions import Fraction

from domain.aggregates.periods import Period
from domain.aggregates.rollups import Axis
from domain.aggregates.stats import rounded
from domain.aggregates.window_counts import WindowCounts
from domain.alerts.models import Contribution
from domain.standards.models import Target, TargetMetric
from domain.tactical.models import answers, figure

# The dimensions a breach is explained by, and how many of their cells a tactical alert names.
EXPLAINED_BY = (Axis.CHANNEL, Axis.SEGMENT)
WORST_CELLS = 3


def window_ending(day: date, days: int) -> Period:
    """The ``days`` local days up to and including ``day``."""
    return Period(day - timedelta(days=days - 1), day)


def contributions(
    target: Target,
    current: Mapping[tuple[Axis, str], WindowCounts],
    before: Mapping[tuple[Axis, str], WindowCounts],
) -> list[Contribution]:
    """The cells that moved the window's figure the wrong way, worst first (at most ``WORST_CELLS``).

    Per dimension, the window's figure is the sum over its cells of (the cell's share of the answers) x (the
    cell's figure), so a cell's change is its term now minus its term in the window before, and the changes
    of a dimension's cells add up to the figure's change. Without answers in the window before, a cell's
    term is measured against the target instead: (share) x (figure - target), which adds up to the shortfall.
    """
    metric = target.metric
    moved: list[tuple[Fraction, Contribution]] = []
    for axis in EXPLAINED_BY:
        now_total = sum(answers(t, metric) for (a, _), t in current.items() if a is axis)
        before_total = sum(answers(t, metric) for (a, _), t in before.items() if a is axis)
        if not now_total:
            continue
        values = sorted({v for (a, v) in (*current, *before) if a is axis})
        for value in values:
            term_now = _term(current.get((axis, value)), metric, now_total)
            if before_total:
                change = term_now - _term(before.get((axis, value)), metric, before_total)
            else:
                counts = current.get((axis, value))
                share = Fraction(answers(counts, metric), now_total) if counts else Fraction(0)
                change = term_now - share * Fraction(target.bound)
            wrong_way = change > 0 if metric.at_most else change < 0
            if not wrong_way:
                continue
            cell = current.get((axis, value))
            own = figure(cell, metric) if cell is not None else None
            moved.append(
                (
                    abs(change),
                    Contribution(
                        axis=axis.value,
                        value=value,
                        responses=answers(cell, metric) if cell is not None else 0,
                        figure=rounded(own) if own is not None else None,
                        change=rounded(change),
                    ),
                )
            )
    moved.sort(key=lambda m: (-m[0], m[1].axis, m[1].value))
    return [c for _, c in moved[:WORST_CELLS]]


def _term(counts: WindowCounts | None, metric: TargetMetric, total: int) -> Fraction:
    """A cell's share of the answers times its figure (zero for a cell without answers)."""
    if counts is None:
        return Fraction(0)
    value = figure(counts, metric)
    return Fraction(answers(counts, metric), total) * value if value is not None else Fraction(0)
