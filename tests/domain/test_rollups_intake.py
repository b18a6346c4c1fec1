"""Feedback intake keeps rollups in the same transaction as the response: never missed, never doubled."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta

import pytest

from api.settings import Settings
from api.storage.client import MongoDatabase, MongoUnitOfWork, create_client
from domain.aggregates.periods import Grain, Period, daily
from domain.aggregates.repository import WINDOW_CUBE, RollupRepository
from domain.aggregates.rollups import Axis, shard_of
from domain.aggregates.service import compact_rollups, verify_rollups
from domain.aggregates.tally import Tally
from domain.aggregates.window_counts import WindowCounts
from domain.feedback.models import Feedback, Touchpoint
from domain.feedback.service import Submitter, submit_feedback
from domain.repositories import Repositories
from domain.store import Session
from tests import factories as f
from tests.conftest import CommandCounter
from tests.domain.test_closed_loop import CUSTOMER, NOW, detractor


async def stored(db: MongoDatabase) -> list[int]:
    return [await db[name].count_documents({}) for name in ("feedback", "alerts", "rollups")]


async def total_responses(repos: Repositories) -> int:
    """Responses counted in the region cube's daily cells: each response is in exactly one of them."""
    cells = repos.rollups.everything()
    return sum([t.responses async for k, t in cells if k.cube.name == "region" and k.slot.grain is Grain.DAY])


async def test_a_response_is_counted_into_its_rollups_with_it(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])

    await submit_feedback(repos, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW)

    assert await total_responses(repos) == 1
    assert await verify_rollups(repos) == []


async def test_a_response_writes_two_rollup_documents_its_day_and_its_month(
    settings: Settings, db: MongoDatabase
) -> None:
    commands = CommandCounter()
    client = create_client(str(settings.mongodb_uri), event_listeners=[commands])
    customer = f.customer()
    try:
        rollups = RollupRepository(client[db.name])
        first = f.feedback(customer)
        # A second response of the same day in the same shard: the same two documents.
        second = next(r for r in iter(lambda: f.feedback(customer), None) if shard_of(r) == shard_of(first))
        sent = []
        for response in (first, second):
            commands.counting = True
            await rollups.add(response)
            commands.counting = False
            sent.append(commands.names)
            commands.names = []
    finally:
        await client.close()

    # Every cube's cells of the response's day, and of its month, each in one document: one read of the
    # two documents, then two writes however many cubes (the first response inserts both whole).
    assert sent == [["find", "insert"], ["find", "update", "update"]]
    assert await db["rollups"].count_documents({}) == 2


async def test_a_month_document_keeps_its_days_window_counts_as_its_day_cells_count_them(
    db: MongoDatabase,
) -> None:
    rollups = RollupRepository(db)
    customer = f.customer(region="north")
    first, second = NOW - timedelta(days=3), NOW - timedelta(days=1)
    responses = [
        f.feedback(customer, occurred_at=first, nps=10, csat=1),
        f.feedback(customer, occurred_at=first, nps=3, csat=None, items=()),
        f.feedback(customer, occurred_at=second, nps=None, csat=4, touchpoint=Touchpoint.BILLING),
    ]
    for response in responses:
        await rollups.add(response)
    period = Period(first.date(), second.date())

    counted = await rollups.window_days("UTC", period, {})

    from_cells: dict[tuple[str, str, date], Tally] = {}
    for key, tally in await rollups.cells("UTC", WINDOW_CUBE, daily(period), {}):
        pair = (key.value(Axis.REGION) or "", key.value(Axis.TOUCHPOINT) or "", key.slot.start)
        from_cells.setdefault(pair, Tally()).add(tally)
    assert counted == {pair: WindowCounts.of(tally) for pair, tally in from_cells.items()}
    assert counted[("north", "DELIVERY", first.date())] == WindowCounts(
        responses=2,
        nps_answers=2,
        promoters=1,
        detractors=1,
        csat_answers=1,
        csat_bottom=1,
        indexed=1,
        index_sum=WindowCounts.of(Tally.of(responses[0])).index_sum,
    )
    # Only the month documents hold them (one per shard the responses fell in); a touchpoint filter
    # narrows them.
    holding = await db["rollups"].find({"days": {"$exists": True}}).to_list(None)
    assert {d["grain"] for d in holding} == {"month"}
    billing = await rollups.window_days("UTC", period, {Axis.TOUCHPOINT: ["BILLING"]})
    assert list(billing) == [("north", "BILLING", second.date())]


async def test_a_retried_response_is_counted_once(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    for _ in range(3):
        await submit_feedback(repos, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW)
    assert await total_responses(repos) == 1


class FailingRollups(RollupRepository):
    """Fails the rollup write after the response and its alert were written in the same transaction."""

    async def add(self, feedback: Feedback, *, session: Session | None = None) -> None:
        raise RuntimeError("injected failure after the response and alert writes")


async def test_a_failed_rollup_write_leaves_no_response_and_no_alert(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    failing = replace(repos, rollups=FailingRollups(db))
    with pytest.raises(RuntimeError, match="injected"):
        await submit_feedback(failing, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW)
    assert await stored(db) == [0, 0, 0]


async def test_concurrent_responses_into_the_same_cells_are_all_counted(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customers = [f.customer() for _ in range(4)]
    await repos.customers.insert_many(customers)
    submissions = [
        (Submitter(f"s{n}", on_behalf=False), detractor(customers[n % 4].id, key=f"k{n}")) for n in range(24)
    ]

    await asyncio.gather(
        *(submit_feedback(repos, uow, submitter=who, submission=what, now=NOW) for who, what in submissions)
    )

    assert await total_responses(repos) == 24
    assert await verify_rollups(repos) == []


async def test_compaction_folds_every_shard_into_one_document_per_span_and_region_exactly(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customers = [f.customer(region="north") for _ in range(12)]
    await repos.customers.insert_many(customers)
    for n, customer in enumerate(customers):  # one day, one region: spread over the shards
        await submit_feedback(
            repos, uow, submitter=CUSTOMER, submission=detractor(customer.id, key=f"k{n}"), now=NOW
        )
    assert await db["rollups"].count_documents({"shard": {"$gt": 0}}) > 0

    folded = await compact_rollups(repos, uow, now=NOW)

    assert folded > 0
    # Its day and its month, in shard 0 alone, with every figure as before.
    assert [d["shard"] for d in await db["rollups"].find({}, {"shard": 1}).to_list(None)] == [0, 0]
    assert await total_responses(repos) == 12
    assert await verify_rollups(repos) == []
    assert await compact_rollups(repos, uow, now=NOW) == 0  # nothing left to fold


async def test_responses_counted_while_compaction_folds_their_cells_are_all_kept(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customers = [f.customer(region="north") for _ in range(4)]
    await repos.customers.insert_many(customers)

    async def respond(n: int) -> None:
        submission = detractor(customers[n % 4].id, key=f"k{n}")
        await submit_feedback(
            repos, uow, submitter=Submitter(f"s{n}", on_behalf=False), submission=submission, now=NOW
        )

    async def fold(rounds: int) -> None:
        for _ in range(rounds):
            await compact_rollups(repos, uow, now=NOW)
            await asyncio.sleep(0)

    await asyncio.gather(*(respond(n) for n in range(24)), fold(12), fold(12))
    await compact_rollups(repos, uow, now=NOW)

    assert await total_responses(repos) == 24
    assert await verify_rollups(repos) == []
