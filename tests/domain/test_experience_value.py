"""Experience value from cells against a raw recomputation: for random customers, responses, purchases and
churn, and random requests, the same figures exactly; company-wide answers add up the cells their rows show,
whatever the request filters."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from api.storage.client import MongoUnitOfWork, create_client, ensure_schema
from domain.aggregates.disclosure import Disclosure, Guarantee
from domain.aggregates.experience_value import ValueAxis, ValueFilter, ValueQuery, ValueRow, experience_value
from domain.aggregates.periods import Interval, Period
from domain.customers.models import CustomerStatus, Segment
from domain.errors import InvalidInput
from domain.feedback.models import Touchpoint
from domain.money import Money
from domain.repositories import Repositories
from domain.scope import RowScope
from domain.standing.service import refresh, verify
from domain.value.models import ValueWindow
from domain.value.repository import ValueRepository
from tests import factories as f
from tests.domain.raw_value import RawPurchase, RawResponse, raw_value

START = datetime(2026, 3, 1, tzinfo=UTC)
SPAN_DAYS = 150
NOW = datetime(2026, 11, 15, tzinfo=UTC)  # after every window has ended
REGIONS = ("north", "south")
SEGMENTS = (Segment.MASS, Segment.AFFLUENT)
TOUCHPOINTS = (Touchpoint.DELIVERY.value, Touchpoint.BILLING.value)
CUSTOMERS = 8
WRITTEN = ("customers", "feedback", "transactions")


def moment(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


minutes = st.integers(0, SPAN_DAYS * 24 * 60)
answers = st.lists(
    st.tuples(
        st.integers(0, CUSTOMERS - 1),
        minutes,
        st.none() | st.integers(0, 10),
        st.sampled_from(TOUCHPOINTS),
        st.sampled_from(REGIONS),
    ),
    min_size=10,
    max_size=40,
)
bought = st.lists(
    st.tuples(
        st.integers(0, CUSTOMERS - 1), minutes, st.integers(-50_00, 900_00), st.sampled_from(["EUR", "USD"])
    ),
    max_size=40,
)
churn = st.dictionaries(st.integers(0, CUSTOMERS - 1), minutes, max_size=3)


def subset(values: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    some = st.lists(st.sampled_from(values), unique=True, min_size=1).map(tuple)
    return st.one_of(st.just(()), st.just(()), some)


@st.composite
def queries(draw: st.DrawFn) -> ValueQuery:
    first = draw(st.integers(2, 8))
    last = draw(st.integers(first, 9))
    period = Period(date(2026, first, 1), date(2026, last + 1, 1) - timedelta(days=1))
    return ValueQuery(
        ValueFilter(
            period=period,
            window=draw(st.sampled_from(list(ValueWindow))),
            regions=draw(subset(REGIONS)),
            segments=draw(subset(tuple(s.value for s in SEGMENTS))),
            touchpoints=draw(subset(TOUCHPOINTS)),
        ),
        group_by=tuple(draw(st.lists(st.sampled_from(list(ValueAxis)), unique=True, max_size=2))),
        interval=draw(st.none() | st.sampled_from([Interval.MONTH, Interval.QUARTER])),
    )


@pytest.fixture
def database(settings: Settings) -> Iterator[str]:
    """A database for examples that each open their own client (hypothesis runs them synchronously)."""
    yield settings.database_name

    async def drop() -> None:
        client = create_client(str(settings.mongodb_uri))
        await client.drop_database(settings.database_name)
        await client.close()

    asyncio.run(drop())


async def check_example(
    settings: Settings,
    answered: list[tuple[int, int, int | None, str, str]],
    purchased: list[tuple[int, int, int, str]],
    churned_at: dict[int, int],
    asked: list[ValueQuery],
    min_customers: int,
    manager_regions: tuple[str, ...] | None,
) -> None:
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        await ensure_schema(db)
        for name in (
            "customers",
            "feedback",
            "transactions",
            "standings",
            "worklistBands",
            "valueObservations",
            "valueCells",
        ):
            await db[name].delete_many({})
        repos = Repositories.on(db)
        customers = [
            f.customer(
                segment=SEGMENTS[n % 2],
                region=REGIONS[n % 2],
                status=CustomerStatus.CHURNED if n in churned_at else CustomerStatus.ACTIVE,
                churned_at=moment(churned_at[n]) if n in churned_at else None,
            )
            for n in range(CUSTOMERS)
        ]
        await repos.customers.insert_many(customers)
        # The segment a response is counted in is the customer's; its region the one it was given in.
        responses = [
            RawResponse(customers[c].id, moment(m), nps, tp, region, customers[c].segment.value)
            for c, m, nps, tp, region in answered
        ]
        await repos.feedback.insert_many(
            [
                f.feedback(
                    customers[c],
                    occurred_at=moment(m),
                    nps=nps,
                    touchpoint=Touchpoint(tp),
                    region=region,
                    csat=None,
                )
                for c, m, nps, tp, region in answered
            ]
        )
        purchases = [RawPurchase(customers[c].id, moment(m), a, cur) for c, m, a, cur in purchased]
        await repos.transactions.insert_many(
            [
                f.transaction(customers[c], occurred_at=moment(m), amount=Money(a, cur))
                for c, m, a, cur in purchased
            ]
        )
        await refresh(repos, MongoUnitOfWork(client), [c.id for c in customers], now=NOW)
        assert (await verify(repos, now=NOW)).differences == []

        scope = RowScope.everything() if manager_regions is None else RowScope.of_regions(manager_regions)
        reader = Repositories.on(db, scope).value
        churned = {customers[n].id: moment(m) for n, m in churned_at.items()}
        exact = Disclosure(Guarantee.EXACT, min_customers)
        for query in asked:
            got = await experience_value(reader, query, disclosure=exact, now=NOW, zone="UTC")
            wanted = raw_value(
                responses,
                purchases,
                churned,
                query,
                now=NOW,
                min_customers=min_customers,
                regions=manager_regions,
            )
            assert got == wanted
            event("some row shown" if any(r.figures for r in got) else "every row suppressed or none")
            await check_protected(Repositories.on(db).value, query, min_customers)
    finally:
        await client.close()


async def check_protected(reader: ValueRepository, query: ValueQuery, minimum: int) -> None:
    """A company-wide answer filtered by one axis is the matching rows of the answer grouped by that axis."""
    protected = Disclosure(Guarantee.PROTECTED, minimum)
    for axis, values in ((ValueAxis.SEGMENT, "segments"), (ValueAxis.TOUCHPOINT, "touchpoints")):
        kept = getattr(query.filter, values)
        if not kept:
            continue
        plain = replace(query.filter, segments=(), touchpoints=(), regions=())
        grouped = await experience_value(
            reader, ValueQuery(plain, (axis,), query.interval), disclosure=protected, now=NOW, zone="UTC"
        )
        filtered = await experience_value(
            reader,
            ValueQuery(replace(plain, **{values: kept}), (), query.interval),
            disclosure=protected,
            now=NOW,
            zone="UTC",
        )
        for row in filtered:
            matching = [
                g
                for g in grouped
                if g.values[axis] in kept and g.category is row.category and g.period == row.period
            ]
            assert _customers(row) == sum(_customers(g) for g in matching)


def _customers(row: ValueRow) -> int:
    return row.figures.customers if row.figures else 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    answered=answers,
    purchased=bought,
    churned_at=churn,
    asked=st.lists(queries(), min_size=1, max_size=3),
    min_customers=st.integers(1, 3),
    manager_regions=st.none() | st.just(("north",)),
)
def test_experience_value_from_cells_equals_the_raw_computation(
    database: str,
    settings: Settings,
    answered: list[tuple[int, int, int | None, str, str]],
    purchased: list[tuple[int, int, int, str]],
    churned_at: dict[int, int],
    asked: list[ValueQuery],
    min_customers: int,
    manager_regions: tuple[str, ...] | None,
) -> None:
    asyncio.run(
        check_example(settings, answered, purchased, churned_at, asked, min_customers, manager_regions)
    )


async def test_experience_value_comes_in_whole_months_of_the_reporting_zone(repos: Repositories) -> None:
    board = Disclosure(Guarantee.PROTECTED, 5)
    october = Period(date(2026, 10, 1), date(2026, 10, 31))

    async def refused(query: ValueQuery, disclosure: Disclosure, now: datetime = NOW) -> str | None:
        with pytest.raises(InvalidInput) as raised:
            await experience_value(repos.value, query, disclosure=disclosure, now=now, zone="UTC")
        return raised.value.field

    assert await refused(ValueQuery(ValueFilter(october), interval=Interval.WEEK), board) == "interval"
    assert (
        await refused(ValueQuery(ValueFilter(Period(date(2026, 10, 2), date(2026, 10, 31)))), board) == "from"
    )
    assert (
        await refused(ValueQuery(ValueFilter(Period(date(2026, 10, 1), date(2026, 10, 30)))), board) == "to"
    )
    assert await refused(ValueQuery(ValueFilter(october, time_zone="Europe/Paris")), board) == "timeZone"
    assert (
        await refused(ValueQuery(ValueFilter(october)), board, now=datetime(2026, 10, 20, tzinfo=UTC)) == "to"
    )
    two_axes = ValueQuery(ValueFilter(october, segments=("MASS",)), group_by=(ValueAxis.TOUCHPOINT,))
    assert await refused(two_axes, board) == "groupBy"
    # A manager may read the current month, partial as it is.
    exact = Disclosure(Guarantee.EXACT, 5)
    assert (
        await experience_value(
            repos.value,
            ValueQuery(ValueFilter(october)),
            disclosure=exact,
            now=datetime(2026, 10, 20, tzinfo=UTC),
            zone="UTC",
        )
        == []
    )
