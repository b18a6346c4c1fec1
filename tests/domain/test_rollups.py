"""Rollups against raw feedback: for random response sets and requests, the same figures, exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from api.storage.client import MongoDatabase, MongoUnitOfWork, create_client, ensure_schema
from domain.aggregates.disclosure import Disclosure, Guarantee
from domain.aggregates.experience import ExperienceFilter, ExperienceQuery, experience
from domain.aggregates.periods import Grain, Interval, Period
from domain.aggregates.rollups import SHARDS, Axis
from domain.aggregates.service import WindowDayDifference, compact_rollups, rebuild_rollups, verify_rollups
from domain.aggregates.tally import CUSTOMERS_KEPT
from domain.errors import InvalidInput
from domain.feedback.models import Feedback, FeedbackChannel, ScoreItem, Touchpoint
from domain.ids import new_id
from domain.repositories import Repositories
from domain.scope import RowScope
from tests import factories as f
from tests.domain.raw_experience import raw_experience

# Zones with a whole-hour, a negative and a half-hour offset, so local days differ from UTC days.
ZONES = ("UTC", "America/New_York", "Asia/Kolkata")
START = datetime(2026, 1, 20, tzinfo=UTC)
SPAN_DAYS = 120
CUSTOMERS = [f"c{n}" for n in range(8)]
REGIONS = ("north", "south")
CHANNELS = (FeedbackChannel.APP, FeedbackChannel.WEB, FeedbackChannel.KIOSK)
TOUCHPOINTS = (Touchpoint.DELIVERY, Touchpoint.STORE_VISIT, Touchpoint.BILLING)
SEGMENTS = ("MASS", "AFFLUENT")
EXACT_5 = Disclosure(Guarantee.EXACT, 5)

items = st.lists(
    st.builds(
        ScoreItem,
        st.sampled_from(["speed", "friendliness", "value"]),
        st.integers(1, 7),
        st.integers(1, 7),
    ),
    max_size=3,
    unique_by=lambda item: item.dimension,
).map(tuple)


@st.composite
def responses(draw: st.DrawFn) -> Feedback:
    at = START + timedelta(minutes=draw(st.integers(0, SPAN_DAYS * 24 * 60)))
    return Feedback(
        id=new_id(),
        customer_id=draw(st.sampled_from([*CUSTOMERS, None])),
        channel=draw(st.sampled_from(CHANNELS)),
        touchpoint=draw(st.sampled_from(TOUCHPOINTS)),
        occurred_at=at,
        received_at=at,
        nps=draw(st.none() | st.integers(0, 10)),
        csat=draw(st.none() | st.integers(1, 5)),
        effort=draw(st.none() | st.integers(1, 7)),
        items=draw(items),
        comment=None,
        transaction_id=None,
        case_id=None,
        interaction_id=None,
        region=draw(st.sampled_from(REGIONS)),
        segment=draw(st.sampled_from(SEGMENTS)),
    )


def subset(values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    """Mostly no filter, so that enough buckets pass the privacy threshold to compare figures."""
    some = st.lists(st.sampled_from(values), unique=True, min_size=1, max_size=len(values)).map(tuple)
    return st.one_of(st.just(()), st.just(()), some)


@st.composite
def queries(draw: st.DrawFn) -> ExperienceQuery:
    first = START.date() + timedelta(days=draw(st.integers(-5, SPAN_DAYS)))
    period = Period(first, first + timedelta(days=draw(st.integers(28, 100) | st.integers(0, 100))))
    return ExperienceQuery(
        filter=ExperienceFilter(
            period=period,
            time_zone=draw(st.sampled_from(ZONES)),
            regions=draw(subset(REGIONS)),
            channels=draw(subset(tuple(c.value for c in CHANNELS))),
            touchpoints=draw(subset(tuple(t.value for t in TOUCHPOINTS))),
            segments=draw(subset(SEGMENTS)),
        ),
        group_by=tuple(draw(st.lists(st.sampled_from(list(Axis)), unique=True, max_size=2))),
        interval=draw(st.none() | st.sampled_from(list(Interval))),
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[str]:
    """A database name for examples that each open their own client (hypothesis runs them synchronously)."""
    yield settings.database_name

    async def drop() -> None:
        client = create_client(str(settings.mongodb_uri))
        await client.drop_database(settings.database_name)
        await client.close()

    asyncio.run(drop())


async def check_example(
    settings: Settings,
    feedback: list[Feedback],
    asked: list[ExperienceQuery],
    min_customers: int,
    manager_regions: tuple[str, ...] | None,
) -> None:
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        await ensure_schema(db)
        for collection in ("feedback", "rollups", "windowTotals", "finestMonths"):
            await db[collection].delete_many({})
        repos = Repositories.on(db, rollup_zones=ZONES)
        await f.store_feedback(repos, feedback)
        scope = RowScope.everything() if manager_regions is None else RowScope.of_regions(manager_regions)
        reader = Repositories.on(db, scope, rollup_zones=ZONES).rollups

        async def check_every_query() -> None:
            for query in asked:
                disclosure = Disclosure(Guarantee.EXACT, min_customers)
                got = await experience(reader, query, disclosure=disclosure, now=START)
                assert got == raw_experience(
                    feedback, query, min_customers=min_customers, regions=manager_regions
                )
                event(
                    "some bucket shown" if any(b.figures for b in got) else "every bucket suppressed or none"
                )

        await check_every_query()  # as intake leaves them
        # As the sweep leaves them: shards folded, and the finest cube's months that are over kept whole.
        while await compact_rollups(repos, MongoUnitOfWork(client), now=datetime.now(UTC)):
            pass
        await check_every_query()
        assert await verify_rollups(repos) == []
    finally:
        await client.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    feedback=st.lists(responses(), min_size=20, max_size=80),
    asked=st.lists(queries(), min_size=1, max_size=4),
    min_customers=st.integers(1, 6) | st.just(1),
    manager_regions=st.none() | st.just(("north",)),
)
def test_every_aggregate_from_rollups_equals_the_raw_computation(
    settings: Settings,
    database: str,
    feedback: list[Feedback],
    asked: list[ExperienceQuery],
    min_customers: int,
    manager_regions: tuple[str, ...] | None,
) -> None:
    asyncio.run(check_example(settings, feedback, asked, min_customers, manager_regions))


async def test_rebuild_restores_rollups_that_drifted(repos: Repositories, db: MongoDatabase) -> None:
    rollups = Repositories.on(db, rollup_zones=ZONES)
    feedback = [
        Feedback(
            id=new_id(),
            customer_id=CUSTOMERS[n % 6],
            channel=CHANNELS[n % 3],
            touchpoint=TOUCHPOINTS[n % 2],
            occurred_at=START + timedelta(hours=7 * n),
            received_at=START,
            nps=n % 11,
            csat=1 + n % 5,
            effort=None,
            items=(ScoreItem("speed", 1 + n % 7, 7 - n % 7),),
            comment=None,
            transaction_id=None,
            case_id=None,
            interaction_id=None,
            region=REGIONS[n % 2],
            segment=SEGMENTS[n % 2],
        )
        for n in range(60)
    ]
    await f.store_feedback(rollups, feedback[:50])
    await rollups.feedback.insert_many(feedback[50:])  # stored without their rollups: drift
    differences = await verify_rollups(rollups)
    assert differences
    assert all("responses" in d.describe() for d in differences)
    assert any(isinstance(d, WindowDayDifference) for d in differences)

    rebuilt = await rebuild_rollups(rollups)

    assert rebuilt.responses == 60
    assert await verify_rollups(rollups) == []
    query = ExperienceQuery(ExperienceFilter(Period(date(2026, 1, 1), date(2026, 3, 31)), "Asia/Kolkata"))
    got = await experience(rollups.rollups, query, disclosure=EXACT_5, now=START)
    assert got == raw_experience(feedback, query, min_customers=5)
    assert got[0].figures is not None
    assert got[0].figures.responses == 60


async def test_window_counts_that_drifted_alone_are_reported_and_rebuilt(
    repos: Repositories, db: MongoDatabase
) -> None:
    day = START + timedelta(days=2)
    await f.store_feedback(repos, [f.feedback(None, occurred_at=day, region="north") for _ in range(3)])
    month = await db["rollups"].find_one({"grain": "month", "days": {"$exists": True}})
    assert month is not None
    await db["rollups"].update_one({"_id": month["_id"]}, {"$inc": {"days.d22.DELIVERY.p": 1}})

    differences = await verify_rollups(repos)

    assert [d.describe() for d in differences] == [
        "UTC window counts 2026-01-22 (region=north, touchpoint=DELIVERY): promoters stored 4, raw 3"
    ]
    await rebuild_rollups(repos)
    assert await verify_rollups(repos) == []


@pytest.mark.parametrize(
    ("first", "last", "interval", "field"),
    [
        (date(2026, 2, 1), date(2026, 1, 1), None, "to"),
        (date(2020, 1, 1), date(2026, 1, 1), None, "to"),
        (date(2025, 1, 1), date(2026, 6, 1), Interval.DAY, "to"),
    ],
)
async def test_a_period_that_cannot_be_answered_is_refused(
    repos: Repositories, first: date, last: date, interval: Interval | None, field: str
) -> None:
    query = ExperienceQuery(ExperienceFilter(Period(first, last)), interval=interval)
    with pytest.raises(InvalidInput) as refused:
        await experience(repos.rollups, query, disclosure=EXACT_5, now=START)
    assert refused.value.field == field


async def test_an_unknown_time_zone_is_refused(repos: Repositories) -> None:
    query = ExperienceQuery(ExperienceFilter(Period(date(2026, 1, 1), date(2026, 1, 2)), "Mars/Olympus"))
    with pytest.raises(InvalidInput) as refused:
        await experience(repos.rollups, query, disclosure=EXACT_5, now=START)
    assert refused.value.field == "timeZone"


async def test_a_cell_keeps_customers_up_to_the_cap_and_still_tells_every_threshold(
    repos: Repositories, db: MongoDatabase
) -> None:
    # Enough customers that every shard of the cell passes the cap.
    people = [f"p{n:03d}" for n in range(SHARDS * CUSTOMERS_KEPT * 2)]
    at = START + timedelta(hours=1)
    feedback = [
        Feedback(new_id(), person, CHANNELS[0], TOUCHPOINTS[0], at, at, 9, None, None, (), None, None, None,
                 None, "north", "MASS")
        for person in people
    ]  # fmt: skip
    await f.store_feedback(repos, feedback)

    cells = [
        t
        async for k, t in repos.rollups.everything()
        if k.cube.name == "region" and k.slot.grain is Grain.DAY
    ]
    assert sum(cell.responses for cell in cells) == len(feedback)
    assert {len(cell.customers) for cell in cells} == {CUSTOMERS_KEPT}
    assert await verify_rollups(repos) == []
    query = ExperienceQuery(ExperienceFilter(Period(at.date(), at.date())))
    for threshold in (1, CUSTOMERS_KEPT):
        exact = Disclosure(Guarantee.EXACT, threshold)
        (bucket,) = await experience(repos.rollups, query, disclosure=exact, now=START)
        assert bucket.figures is not None
        assert bucket.figures.responses == len(feedback)
