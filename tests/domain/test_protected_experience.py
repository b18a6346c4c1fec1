"""``experience`` for the board and BI: every answer adds up shown cells of the publication lattice, exactly.

Together with ``test_disclosure`` (no suppressed cell is a combination of shown ones), this makes every
differencing attack over periods, filters and groupings fail: whatever a protected caller asks, the answer is
a sum of cells the lattice shows, worked out here again from the raw responses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.aggregates.disclosure import Atom, Disclosure, Guarantee, suppress
from domain.aggregates.experience import ExperienceFilter, ExperienceQuery, experience
from domain.aggregates.periods import Interval, Period, Slot
from domain.aggregates.rollups import Axis, CellKey, Cube, count_in
from domain.aggregates.tally import Tally
from domain.errors import InvalidInput
from domain.feedback.models import Feedback, FeedbackChannel, ScoreItem, Touchpoint
from domain.ids import new_id

MINIMUM = 3
ZONE = "UTC"
NOW = datetime(2026, 3, 15, tzinfo=UTC)
MONTHS = (date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1))
REGIONS = ("north", "south")
CHANNELS = (FeedbackChannel.APP, FeedbackChannel.WEB, FeedbackChannel.KIOSK)
TOUCHPOINTS = (Touchpoint.DELIVERY, Touchpoint.BILLING)
SEGMENTS = ("MASS", "AFFLUENT")
PROTECTED = Disclosure(Guarantee.PROTECTED, MINIMUM)
SPLIT = (Axis.CHANNEL, Axis.TOUCHPOINT, Axis.SEGMENT)


class MemoryRollups:
    """Rollup cells counted in memory from raw responses, read as the repository reads them."""

    zones = (ZONE,)

    def __init__(self, feedback: Sequence[Feedback]) -> None:
        cells: dict[CellKey, Tally] = {}
        for response in feedback:
            count_in(cells, response, self.zones)
        self._by_span: dict[tuple[str, Cube, Slot], list[tuple[CellKey, Tally]]] = {}
        for key, tally in cells.items():
            self._by_span.setdefault((key.zone, key.cube, key.slot), []).append((key, tally))

    async def cells(
        self, zone: str, cube: Cube, slots: Sequence[Slot], where: Mapping[Axis, Sequence[str]]
    ) -> list[tuple[CellKey, Tally]]:
        return [
            (key, tally)
            for slot in dict.fromkeys(slots)
            for key, tally in self._by_span.get((zone, cube, slot), [])
            if all(key.value(axis) in values for axis, values in where.items() if values)
        ]


@st.composite
def responses(draw: st.DrawFn) -> Feedback:
    month = draw(st.sampled_from(MONTHS))
    at = datetime(month.year, month.month, draw(st.integers(1, 28)), 12, tzinfo=UTC)
    return Feedback(
        id=new_id(),
        customer_id=draw(st.sampled_from([f"c{n}" for n in range(12)] + [None])),
        channel=draw(st.sampled_from(CHANNELS)),
        touchpoint=draw(st.sampled_from(TOUCHPOINTS)),
        occurred_at=at,
        received_at=at,
        nps=draw(st.none() | st.integers(0, 10)),
        csat=draw(st.integers(1, 5)),
        effort=None,
        items=draw(st.sampled_from([(), (ScoreItem("speed", 4, 5),)])),
        comment=None,
        transaction_id=None,
        case_id=None,
        interaction_id=None,
        region=draw(st.sampled_from(REGIONS)),
        segment=draw(st.sampled_from(SEGMENTS)),
    )


def value(response: Feedback, axis: Axis) -> str:
    return {
        Axis.REGION: response.region or "",
        Axis.CHANNEL: response.channel.value,
        Axis.TOUCHPOINT: response.touchpoint.value,
        Axis.SEGMENT: response.segment or "",
    }[axis]


def month_of(response: Feedback) -> date:
    return response.occurred_at.date().replace(day=1)


def shown_cells(
    feedback: Sequence[Feedback], axis: Axis | None
) -> dict[tuple[date, str, str], list[Feedback]]:
    """The responses of every shown cell (month, region, value of ``axis`` or ""), by the lattice's rule."""
    rows: dict[tuple[date, str], list[Feedback]] = {}
    for response in feedback:
        rows.setdefault((month_of(response), value(response, Axis.REGION)), []).append(response)
    shown: dict[tuple[date, str, str], list[Feedback]] = {}
    for (month, region), members in rows.items():
        atoms: dict[tuple[str, ...], list[Feedback]] = {}
        for response in members:
            atoms.setdefault(tuple(value(response, a) for a in SPLIT), []).append(response)
        pattern = suppress(
            [
                Atom(key, frozenset(r.customer_id for r in group if r.customer_id), len(group))
                for key, group in atoms.items()
            ],
            axes=len(SPLIT),
            minimum=MINIMUM,
        )
        for response in members:
            cell = "" if axis is None else value(response, axis)
            if pattern.total_shown if axis is None else pattern.shows(SPLIT.index(axis), cell):
                shown.setdefault((month, region, cell), []).append(response)
    return shown


def queries() -> list[ExperienceQuery]:
    """Every question of a small family a board member can ask: periods, intervals, axes, filters, groups."""
    asked = []
    for first, last in [(1, 1), (1, 2), (2, 3), (1, 3)]:
        end = (MONTHS[last] + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        period = Period(MONTHS[first], end)
        for interval in (None, Interval.MONTH, Interval.QUARTER):
            for axis in (None, *SPLIT):
                for group_region in (False, True):
                    group_by = (*((Axis.REGION,) if group_region else ()), *((axis,) if axis else ()))
                    for regions in ((), ("north",)):
                        for values in ((), (CHANNELS[0].value,), (TOUCHPOINTS[0].value,), (SEGMENTS[0],)):
                            if values and (axis is None or not _belongs(values[0], axis)):
                                continue
                            where = {Axis.REGION: regions, **({axis: values} if axis and values else {})}
                            asked.append(
                                ExperienceQuery(
                                    ExperienceFilter(
                                        period,
                                        ZONE,
                                        regions=where.get(Axis.REGION, ()),
                                        channels=where.get(Axis.CHANNEL, ()),
                                        touchpoints=where.get(Axis.TOUCHPOINT, ()),
                                        segments=where.get(Axis.SEGMENT, ()),
                                    ),
                                    group_by,
                                    interval,
                                )
                            )
    return asked


def _belongs(candidate: str, axis: Axis) -> bool:
    options = {
        Axis.CHANNEL: [c.value for c in CHANNELS],
        Axis.TOUCHPOINT: [t.value for t in TOUCHPOINTS],
        Axis.SEGMENT: list(SEGMENTS),
    }
    return candidate in options[axis]


def _axis_of(query: ExperienceQuery) -> Axis | None:
    others = {*query.filter.where(), *query.group_by} - {Axis.REGION}
    return next(iter(others), None)


QUERIES = queries()


def test_the_query_family_covers_every_kind_of_question() -> None:
    asked = QUERIES
    assert len({q.interval for q in asked}) == 3
    assert {_axis_of(q) for q in asked} == {None, *SPLIT}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(responses(), min_size=10, max_size=70))
def test_every_protected_answer_adds_up_shown_cells(feedback: list[Feedback]) -> None:
    asyncio.run(check(feedback))


async def check(feedback: list[Feedback]) -> None:
    rollups = MemoryRollups(feedback)
    by_axis = {axis: shown_cells(feedback, axis) for axis in (None, *SPLIT)}
    for query in QUERIES:
        axis = _axis_of(query)
        shown = by_axis[axis]
        period = query.filter.period
        got = await experience(rollups, query, disclosure=PROTECTED, now=NOW)
        for bucket in got:
            values = dict(bucket.values)
            covered = [
                r
                for (month, region, cell), members in shown.items()
                if bucket.period.first <= month <= bucket.period.last
                and region == values.get(Axis.REGION, region)
                and (not query.filter.regions or region in query.filter.regions)
                and (axis is None or cell == values.get(axis, cell))
                and (axis is None or not query.filter.where().get(axis) or cell in query.filter.where()[axis])
                for r in members
            ]
            assert period.first <= bucket.period.first <= bucket.period.last <= period.last
            if bucket.figures is None:
                assert covered == [], (query, bucket)
                continue
            assert bucket.figures.responses == len(covered), (query, bucket)
            nps = [r.nps for r in covered if r.nps is not None]
            assert bucket.figures.nps_distribution == tuple(nps.count(s) for s in range(11))
            csat = [r.csat for r in covered if r.csat is not None]
            assert bucket.figures.csat_distribution == tuple(csat.count(s) for s in range(1, 6))
            for dimension in bucket.figures.dimensions:
                raters = {r.customer_id for r in covered if r.items and r.customer_id}
                assert len(raters) >= MINIMUM, (query, bucket)
                assert dimension.responses <= sum(1 for r in covered if r.items)


@pytest.mark.parametrize(
    ("period", "interval", "group_by", "field"),
    [
        (Period(date(2026, 1, 1), date(2026, 1, 30)), None, (), "to"),  # N-1 days of a month
        (Period(date(2026, 1, 2), date(2026, 1, 31)), None, (), "from"),
        (Period(date(2026, 3, 1), date(2026, 3, 31)), None, (), "to"),  # the month is not over
        (Period(date(2026, 1, 1), date(2026, 1, 31)), Interval.DAY, (), "interval"),
        (Period(date(2026, 1, 1), date(2026, 1, 31)), Interval.WEEK, (), "interval"),
        (Period(date(2026, 1, 1), date(2026, 1, 31)), None, (Axis.CHANNEL, Axis.SEGMENT), "groupBy"),
    ],
)
async def test_questions_off_the_lattice_are_refused(
    period: Period, interval: Interval | None, group_by: tuple[Axis, ...], field: str
) -> None:
    query = ExperienceQuery(ExperienceFilter(period, ZONE), group_by, interval)
    with pytest.raises(InvalidInput) as refused:
        await experience(MemoryRollups([]), query, disclosure=PROTECTED, now=NOW)
    assert refused.value.field == field
