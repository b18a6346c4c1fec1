"""Window counts kept as running totals per region and month: sums over any window equal the days' counts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.aggregates import window_totals
from domain.aggregates.periods import Period, daily
from domain.aggregates.repository import TOTALS_COLLECTION, WINDOW_CUBE
from domain.aggregates.rollups import Axis, shard_of
from domain.aggregates.service import compact_rollups, verify_rollups
from domain.aggregates.tally import Tally
from domain.aggregates.window_counts import WindowCounts
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from tests import factories as f

FIRST = date(2026, 8, 20)  # a window of the last 90 days spans up to four months
DAYS = 75


def test_running_totals_run_from_each_touchpoints_first_day_to_the_months_end_and_give_the_days_back() -> (
    None
):
    month = date(2026, 2, 1)
    days = {
        (date(2026, 2, 3), "DELIVERY"): WindowCounts(responses=2, nps_answers=2, promoters=1),
        (date(2026, 2, 10), "DELIVERY"): WindowCounts(responses=1, csat_answers=1, csat_bottom=1),
        (date(2026, 2, 27), "BILLING"): WindowCounts(responses=1),
    }

    totals = window_totals.running_totals(month, days)

    assert [field for field in totals if "DELIVERY" in totals[field]] == [f"d{n:02d}" for n in range(3, 29)]
    assert [field for field in totals if "BILLING" in totals[field]] == ["d27", "d28"]
    assert totals["d28"]["DELIVERY"] == {"r": 3, "n": 2, "p": 1, "c": 1, "b": 1}
    assert window_totals.daily(month, totals) == days
    # A window from the 4th to the 10th: the total through the 10th less that through the 3rd.
    week = window_totals.span_total(month, totals, Period(date(2026, 2, 4), date(2026, 2, 10)), "DELIVERY")
    assert week == WindowCounts(responses=1, csat_answers=1, csat_bottom=1)
    assert window_totals.needed_fields(month, [Period(date(2026, 2, 4), date(2026, 3, 10))]) == {"d03", "d28"}


async def test_window_sums_equal_the_days_counts_folded_or_pending(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    rng = random.Random(7)  # noqa: S311 - a fixed sample, not a secret
    customers = [f.customer(region=region) for region in ("north", "south") for _ in range(3)]
    touchpoints = [Touchpoint.DELIVERY, Touchpoint.BILLING]

    async def respond(days: range) -> None:
        made = [
            f.feedback(
                rng.choice(customers),
                occurred_at=datetime.combine(FIRST + timedelta(days=n), datetime.min.time(), UTC)
                + timedelta(hours=rng.randrange(24)),
                touchpoint=rng.choice(touchpoints),
                nps=rng.choice([None, *range(11)]),
                csat=rng.choice([None, 1, 3, 5]),
            )
            for n in days
            for _ in range(rng.randrange(3))
        ]
        await f.store_feedback(repos, made)

    async def check_sums() -> None:
        last = FIRST + timedelta(days=DAYS - 1)
        periods = [Period(first, last) for first in (FIRST, FIRST + timedelta(days=11), last)]
        periods += [Period(FIRST + timedelta(days=n), FIRST + timedelta(days=n + 27)) for n in (0, 9, 40)]
        cells = await repos.rollups.cells("UTC", WINDOW_CUBE, daily(Period(FIRST, last)), {})
        expected: dict[tuple[str, str, Period], WindowCounts] = {}
        for key, tally in cells:
            for period in periods:
                if key.slot.start in period:
                    pair = (key.value(Axis.REGION) or "", key.value(Axis.TOUCHPOINT) or "", period)
                    expected.setdefault(pair, WindowCounts()).add(WindowCounts.of(tally))

        assert await repos.rollups.window_sums("UTC", periods, {}) == expected
        south = await repos.rollups.window_sums("UTC", periods, {Axis.REGION: ["south"]})
        assert south == {k: v for k, v in expected.items() if k[0] == "south"}
        assert await verify_rollups(repos) == []

    await respond(range(0, 40))
    await check_sums()  # every count pending in its month documents
    while await compact_rollups(repos, uow, now=datetime.now(UTC)):
        pass
    assert not await db["rollups"].find_one({"pending": {"$exists": True}})
    assert await db[TOTALS_COLLECTION].count_documents({}) == 2 * 2  # two regions, August and September
    await check_sums()  # every count folded into the running totals
    await respond(range(30, DAYS))
    await check_sums()  # some folded, some pending, in the same months


async def test_a_month_with_one_shard_is_folded_too(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer(region="north")
    occurred = datetime(2026, 9, 5, 10, tzinfo=UTC)
    response = next(
        r for r in iter(lambda: f.feedback(customer, occurred_at=occurred), None) if not shard_of(r)
    )
    await f.store_feedback(repos, [response])
    pending = await db["rollups"].find({"pending": {"$exists": True}}).to_list(None)
    assert [(d["grain"], d["shard"]) for d in pending] == [("month", 0)]

    await compact_rollups(repos, uow, now=datetime.now(UTC))

    assert not await db["rollups"].find_one({"pending": {"$exists": True}})
    period = Period(date(2026, 9, 1), date(2026, 9, 30))
    sums = await repos.rollups.window_sums("UTC", [period], {})
    assert sums == {("north", "DELIVERY", period): WindowCounts.of(Tally.of(response))}
