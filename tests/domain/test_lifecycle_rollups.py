"""Churn from lifecycle cells against churn from every customer: the same rows, exactly.

Customers are created, moved between regions and segments, churned and reactivated through the
repository (as imports change them), and every request is answered both ways.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from api.storage.client import MongoUnitOfWork, create_client, ensure_schema
from domain.aggregates.churn import ChurnFilter, churn
from domain.aggregates.disclosure import Disclosure, Guarantee
from domain.aggregates.groups import CustomerAxis
from domain.aggregates.periods import Interval, Period
from domain.aggregates.service import rebuild_rollups, verify_rollups
from domain.customers.models import Customer, CustomerStatus, Segment
from domain.repositories import Repositories
from domain.scope import RowScope
from tests import factories as f

# Zones with a whole-hour, a negative and a half-hour offset, so local days and months differ from UTC's.
ZONES = ("UTC", "America/New_York", "Asia/Kolkata")
START = datetime(2025, 11, 20, tzinfo=UTC)
SPAN_MINUTES = 200 * 24 * 60
NOW = START + timedelta(days=260)
REGIONS = ("north", "south")
SEGMENTS = (Segment.MASS, Segment.AFFLUENT)


@dataclass(frozen=True, slots=True)
class Change:
    """A later change to one customer, at ``minutes`` after START (or its creation, if later)."""

    customer: int
    minutes: int
    region: str | None = None
    segment: Segment | None = None
    status: CustomerStatus | None = None


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    created = START + timedelta(minutes=draw(st.integers(0, SPAN_MINUTES)))
    churned = draw(st.none() | st.integers(0, 60 * 24 * 60))
    return f.customer(
        region=draw(st.sampled_from(REGIONS)),
        segment=draw(st.sampled_from(SEGMENTS)),
        created_at=created,
        status=CustomerStatus.ACTIVE if churned is None else CustomerStatus.CHURNED,
        churned_at=None if churned is None else created + timedelta(minutes=churned),
    )


changes = st.builds(
    Change,
    customer=st.integers(0, 20),
    minutes=st.integers(0, SPAN_MINUTES),
    region=st.none() | st.sampled_from(REGIONS),
    segment=st.none() | st.sampled_from(SEGMENTS),
    status=st.none() | st.sampled_from(list(CustomerStatus)),
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[ChurnFilter, tuple[CustomerAxis, ...], Interval | None]:
    first = START.date() + timedelta(days=draw(st.integers(-40, 220)))
    period = Period(first, first + timedelta(days=draw(st.integers(0, 120))))
    where = ChurnFilter(
        period,
        draw(st.sampled_from(ZONES)),
        tuple(draw(st.lists(st.sampled_from(REGIONS), unique=True))),
        tuple(s.value for s in draw(st.lists(st.sampled_from(SEGMENTS), unique=True))),
    )
    by = tuple(draw(st.lists(st.sampled_from(list(CustomerAxis)), unique=True)))
    return where, by, draw(st.none() | st.sampled_from(list(Interval)))


@st.composite
def lattice_requests(draw: st.DrawFn) -> tuple[ChurnFilter, tuple[CustomerAxis, ...], Interval | None]:
    """What a protected caller may ask: whole months of the reporting zone that have ended."""
    first = date(2025, 11 + draw(st.integers(0, 1)), 1) if draw(st.booleans()) else date(2026, 1, 1)
    months = draw(st.integers(1, 6))
    index = first.year * 12 + first.month - 1 + months
    last = date(index // 12, index % 12 + 1, 1) - timedelta(days=1)
    where = ChurnFilter(
        Period(first, last),
        ZONES[0],
        tuple(draw(st.lists(st.sampled_from(REGIONS), unique=True, max_size=1))),
        tuple(s.value for s in draw(st.lists(st.sampled_from(SEGMENTS), unique=True, max_size=1))),
    )
    by = tuple(draw(st.lists(st.sampled_from(list(CustomerAxis)), unique=True)))
    return where, by, draw(st.none() | st.sampled_from([Interval.MONTH, Interval.QUARTER]))


@pytest.fixture
def database(settings: Settings) -> Iterator[str]:
    """A database name for examples that each open their own client (hypothesis runs them synchronously)."""
    yield settings.database_name

    async def drop() -> None:
        client = create_client(str(settings.mongodb_uri))
        await client.drop_database(settings.database_name)
        await client.close()

    asyncio.run(drop())


async def apply(repos: Repositories, uow: MongoUnitOfWork, stored: list[Customer], change: Change) -> None:
    """One change through the import's upsert: churn is dated at the change, reactivation clears it."""
    current = (await repos.customers.get_many([stored[change.customer % len(stored)].id]))[
        stored[change.customer % len(stored)].id
    ]
    at = max(START + timedelta(minutes=change.minutes), current.created_at)
    status = change.status or current.status
    changed = replace(
        current,
        region=change.region or current.region,
        segment=change.segment or current.segment,
        status=status,
        churned_at=current.churned_at if status is current.status else None,
    )
    await repos.customers.upsert_by_external_id([changed], now=at, uow=uow)


async def check_example(
    settings: Settings,
    created: list[Customer],
    later: list[Change],
    asked: list[tuple[ChurnFilter, tuple[CustomerAxis, ...], Interval | None]],
    lattice: list[tuple[ChurnFilter, tuple[CustomerAxis, ...], Interval | None]],
    min_customers: int,
    manager_regions: tuple[str, ...] | None,
) -> None:
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        await ensure_schema(db)
        for collection in ("customers", "lifecycleRollups"):
            await db[collection].delete_many({})
        repos = Repositories.on(db, rollup_zones=ZONES)
        uow = MongoUnitOfWork(client)
        await repos.customers.insert_many(created)
        for change in sorted(later, key=lambda c: c.minutes):
            await apply(repos, uow, created, change)
        scope = RowScope.everything() if manager_regions is None else RowScope.of_regions(manager_regions)
        scoped = Repositories.on(db, scope, rollup_zones=ZONES)

        exact = Disclosure(Guarantee.EXACT, min_customers)
        protected = Disclosure(Guarantee.PROTECTED, min_customers)
        for disclosure, requested in ((exact, asked), (protected, lattice)):
            for where, by, interval in requested:
                answers = [
                    await churn(
                        scoped.customers,
                        where,
                        by,
                        interval,
                        disclosure=disclosure,
                        now=NOW,
                        reporting_zone=ZONES[0],
                        cells=cells,
                    )
                    for cells in (scoped.lifecycles, None)
                ]
                assert answers[0] == answers[1]
                event("some row shown" if any(r.figures for r in answers[0]) else "none shown")

        assert await verify_rollups(repos) == []
    finally:
        await client.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    created=st.lists(customers(), min_size=1, max_size=12),
    later=st.lists(changes, max_size=10),
    asked=st.lists(requests(), min_size=1, max_size=4),
    lattice=st.lists(lattice_requests(), max_size=2),
    min_customers=st.integers(1, 3),
    manager_regions=st.none() | st.just(("north",)),
)
def test_churn_from_lifecycle_cells_equals_churn_from_every_customer(
    settings: Settings,
    database: str,
    created: list[Customer],
    later: list[Change],
    asked: list[tuple[ChurnFilter, tuple[CustomerAxis, ...], Interval | None]],
    lattice: list[tuple[ChurnFilter, tuple[CustomerAxis, ...], Interval | None]],
    min_customers: int,
    manager_regions: tuple[str, ...] | None,
) -> None:
    asyncio.run(check_example(settings, created, later, asked, lattice, min_customers, manager_regions))


async def test_verify_catches_a_drifted_lifecycle_cell_and_rebuild_repairs_it(repos: Repositories) -> None:
    churned = f.customer(status=CustomerStatus.CHURNED, churned_at=f.NOW - timedelta(days=10))
    await repos.customers.insert_many([f.customer(), churned])
    assert await verify_rollups(repos) == []
    # Written without its cells: its day and month are missing in the lifecycle rollup.
    await repos.customers.insert_many([f.customer(region="south")], count_lifecycles=False)

    drifted = [d.describe() for d in await verify_rollups(repos)]

    assert len(drifted) == 2
    assert all("lifecycle" in d and "region=south" in d for d in drifted)
    assert all("stored 0 joined and 0 churned, customers 1 joined and 0 churned" in d for d in drifted)
    rebuilt = await rebuild_rollups(repos)
    assert (rebuilt.customers, await verify_rollups(repos)) == (3, [])
