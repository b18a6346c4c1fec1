"""Recurring issues: causes by period against their baseline, a known rise flagged and a flat one not; the
board's answers add up shown cells of the lattice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from domain.aggregates.disclosure import Disclosure, Guarantee
from domain.aggregates.periods import Interval, Period
from domain.aggregates.recurring import IssueAxis, RecurringFilter, recurring_issues
from domain.root_cause import Caused, CauseSource, RootCause

EXACT = Disclosure(Guarantee.EXACT, 1)
MONDAY = date(2026, 9, 7)


class Memory:
    """Recorded causes in memory, read as the repositories read them."""

    def __init__(self, caused: list[Caused]) -> None:
        self.caused = caused

    async def caused_between(self, start: datetime, end: datetime, *, regions: Sequence[str]) -> list[Caused]:
        return [c for c in self.caused if start <= c.cause.at < end and (not regions or c.region in regions)]


def caused(code: str, category: str, at: datetime, customer: str, region: str = "north") -> Caused:
    cause = RootCause(code, category, "note", at, "agent")
    return Caused(CauseSource.ALERT, f"{code}-{at.isoformat()}-{customer}", customer, region, cause)


def weekly(code: str, category: str, counts: Sequence[int]) -> list[Caused]:
    """``counts[n]`` causes in the n-th week from MONDAY, each for another customer, at noon on Wednesday."""
    made = []
    for week, count in enumerate(counts):
        at = datetime.combine(MONDAY + timedelta(weeks=week, days=2), datetime.min.time(), UTC) + timedelta(
            hours=12
        )
        made += [caused(code, category, at + timedelta(minutes=n), f"{code}{week}-{n}") for n in range(count)]
    return made


async def test_a_known_rise_is_flagged_and_a_flat_cause_is_not() -> None:
    memory = Memory(
        weekly("carrier-delay", "delivery", [5, 4, 6, 5, 19]) + weekly("damaged", "delivery", [6, 5, 6, 5, 6])
    )
    week = Period(MONDAY + timedelta(weeks=4), MONDAY + timedelta(weeks=4, days=6))
    rows = await recurring_issues(
        [memory],
        RecurringFilter(week),
        [IssueAxis.CAUSE],
        Interval.WEEK,
        disclosure=EXACT,
        now=datetime(2026, 11, 1, tzinfo=UTC),
        reporting_zone="UTC",
    )
    by_cause = {r.cause: r.figures for r in rows}
    rise, flat = by_cause["carrier-delay"], by_cause["damaged"]
    assert rise is not None
    assert flat is not None
    assert (rise.count, rise.baseline_count, rise.expected, rise.change) == (19, 20, 5.0, 14.0)
    assert rise.share == 0.76  # 19 of 25
    assert rise.rising
    assert rise.p_value < 0.001
    assert (flat.count, flat.baseline_count, flat.rising) == (6, 22, False)
    assert [r.category for r in rows] == ["delivery", "delivery"]


async def test_categories_group_their_causes_and_regions_split_them() -> None:
    memory = Memory(
        weekly("carrier-delay", "delivery", [1, 1, 1, 1, 3])
        + weekly("damaged", "delivery", [1, 1, 1, 1, 3])
        + [caused("wrong-charge", "billing", datetime(2026, 10, 7, 12, tzinfo=UTC), "x", region="south")]
    )
    week = Period(MONDAY + timedelta(weeks=4), MONDAY + timedelta(weeks=4, days=6))
    rows = await recurring_issues(
        [memory],
        RecurringFilter(week),
        [IssueAxis.CATEGORY, IssueAxis.REGION],
        None,
        disclosure=EXACT,
        now=datetime(2026, 11, 1, tzinfo=UTC),
        reporting_zone="UTC",
    )
    assert [(r.category, r.region, r.cause, r.figures.count if r.figures else None) for r in rows] == [
        ("delivery", "north", None, 6),
        ("billing", "south", None, 1),
    ]


async def test_the_board_sees_sums_of_shown_cells_and_small_causes_suppressed() -> None:
    october = datetime(2026, 10, 5, 12, tzinfo=UTC)
    memory = Memory(
        [caused("carrier-delay", "delivery", october + timedelta(hours=n), f"c{n}") for n in range(8)]
        + [caused("damaged", "delivery", october + timedelta(hours=n), f"d{n}") for n in range(6)]
        + [caused("lost", "delivery", october, "e0")]
    )
    protected = Disclosure(Guarantee.PROTECTED, 3)
    rows = await recurring_issues(
        [memory],
        RecurringFilter(Period(date(2026, 10, 1), date(2026, 10, 31))),
        [IssueAxis.CAUSE],
        None,
        disclosure=protected,
        now=datetime(2026, 11, 15, tzinfo=UTC),
        reporting_zone="UTC",
    )
    shown = {r.cause: r.figures.count for r in rows if r.figures}
    hidden = {r.cause for r in rows if r.figures is None}
    # "lost" has one customer: the smallest shown cause is suppressed with it, so no difference isolates it.
    assert shown == {"carrier-delay": 8}
    assert hidden == {"damaged", "lost"}
    categories = await recurring_issues(
        [memory],
        RecurringFilter(Period(date(2026, 10, 1), date(2026, 10, 31))),
        [IssueAxis.CATEGORY],
        None,
        disclosure=protected,
        now=datetime(2026, 11, 15, tzinfo=UTC),
        reporting_zone="UTC",
    )
    assert [(r.category, r.figures.count if r.figures else None) for r in categories] == [("delivery", 15)]
