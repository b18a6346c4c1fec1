"""The finest cube's month cells kept whole for months that are over: read from one document per month and
region while it counts the month's responses, from the days otherwise, and always equal to the raw count."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import monitoring

from api.settings import Settings
from api.storage.client import MongoDatabase, create_client
from domain.aggregates.periods import Grain, Slot
from domain.aggregates.repository import FINEST, FINEST_COLLECTION, RollupRepository
from domain.aggregates.rollups import CellKey, count_in
from domain.aggregates.service import compact_rollups, seal_last_month, verify_rollups
from domain.aggregates.tally import Tally
from domain.feedback.models import Feedback, FeedbackChannel, Touchpoint
from domain.repositories import Repositories
from domain.store import UnitOfWork
from tests import factories as f

FEBRUARY, MARCH, APRIL = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
MONTHS = [Slot(Grain.MONTH, month) for month in (FEBRUARY, MARCH, APRIL)]
# The sweep's time: February and March are over, April is not.
NOW = datetime(2026, 4, 10, 12, tzinfo=UTC)


@dataclass
class DaysRead(monitoring.CommandListener):
    """The day documents' time spans each ``find`` of rollup documents asked for."""

    days: list[str] = field(default_factory=list)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command["find"] == "rollups":
            asked: Any = event.command.get("filter", {}).get("slot", {})
            slots = asked.get("$in", []) if isinstance(asked, dict) else [asked]
            self.days += [s for s in slots if "|day|" in s]

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def responses(first: date, days: int, per_day: int) -> list[Feedback]:
    """Responses spread over regions, channels and customers, ``per_day`` a day from ``first``."""
    start = datetime(first.year, first.month, first.day, 9, tzinfo=UTC)
    return [
        f.feedback(
            None,
            customer_id=f"c{(d + n) % 7}",
            channel=(FeedbackChannel.APP, FeedbackChannel.WEB)[d % 2],
            touchpoint=(Touchpoint.DELIVERY, Touchpoint.BILLING, Touchpoint.STORE_VISIT)[d % 3],
            nps=(d + n) % 11,
            occurred_at=start + timedelta(days=d, minutes=n),
            region=("north", "south")[n % 2],
            segment=("MASS", "AFFLUENT")[d % 2],
        )
        for d in range(days)
        for n in range(per_day)
    ]


def raw_months(feedback: list[Feedback]) -> dict[CellKey, Tally]:
    cells: dict[CellKey, Tally] = {}
    for response in feedback:
        count_in(cells, response, ("UTC",))
    return {k: t for k, t in cells.items() if k.cube is FINEST and k.slot.grain is Grain.MONTH}


async def read_months(settings: Settings, db: MongoDatabase) -> tuple[dict[CellKey, Tally], list[str]]:
    """The finest cube's cells of February to April (their shards summed) and the days read for them."""
    listener = DaysRead()
    client = create_client(str(settings.mongodb_uri), event_listeners=[listener])
    try:
        found = await RollupRepository(client[db.name]).cells("UTC", FINEST, MONTHS, {})
    finally:
        await client.close()
    whole: dict[CellKey, Tally] = {}
    for key, tally in found:
        whole.setdefault(key.whole, Tally()).add(tally)
    return whole, sorted({day.rsplit("|", 1)[1][:7] for day in listener.days})


async def test_months_that_are_over_are_read_whole_until_a_late_response_comes_in(
    settings: Settings, db: MongoDatabase, repos: Repositories, uow: UnitOfWork
) -> None:
    feedback = responses(FEBRUARY, 28, 3) + responses(MARCH, 31, 2) + responses(APRIL, 9, 2)
    await f.store_feedback(repos, feedback)

    # As intake leaves them: every month summed from its days.
    assert await read_months(settings, db) == (raw_months(feedback), ["2026-02", "2026-03", "2026-04"])

    # The sweep folds the month documents and keeps February's and March's finest cells whole.
    while await compact_rollups(repos, uow, now=NOW):
        pass
    assert await db[FINEST_COLLECTION].count_documents({}) == 4  # two months, two regions
    assert await read_months(settings, db) == (raw_months(feedback), ["2026-04"])

    # A late response to February: February is read from its days again, exactly, until the next fold.
    late = responses(date(2026, 2, 14), 1, 1)
    await f.store_feedback(repos, late)
    feedback += late
    assert await read_months(settings, db) == (raw_months(feedback), ["2026-02", "2026-04"])
    while await compact_rollups(repos, uow, now=NOW):
        pass
    assert await read_months(settings, db) == (raw_months(feedback), ["2026-04"])
    assert await verify_rollups(repos) == []


async def test_the_sweep_keeps_last_month_whole_once_it_is_over(
    settings: Settings, db: MongoDatabase, repos: Repositories, uow: UnitOfWork
) -> None:
    feedback = responses(MARCH, 31, 2)
    await f.store_feedback(repos, feedback)
    march_still_on = datetime(2026, 3, 31, 23, tzinfo=UTC)
    while await compact_rollups(repos, uow, now=march_still_on):
        pass  # folded while March was still on: nothing kept whole
    assert await seal_last_month(repos, uow, now=march_still_on) == 0  # last month, February, had nothing
    assert await db[FINEST_COLLECTION].count_documents({}) == 0

    first_of_april = datetime(2026, 4, 1, 1, tzinfo=UTC)
    assert await seal_last_month(repos, uow, now=first_of_april) == 2  # north and south
    assert await seal_last_month(repos, uow, now=first_of_april) == 0  # already whole
    done: set[tuple[str, date]] = set()
    assert await seal_last_month(repos, uow, now=first_of_april, done=done) == 0
    assert done == {("UTC", MARCH)}  # a sweep that saw it whole does not look again

    assert await read_months(settings, db) == (raw_months(feedback), [])  # no day read


async def test_verify_reports_finest_month_cells_that_differ_from_the_responses(
    db: MongoDatabase, repos: Repositories, uow: UnitOfWork
) -> None:
    await f.store_feedback(repos, responses(FEBRUARY, 28, 2))
    while await compact_rollups(repos, uow, now=NOW):
        pass
    assert await verify_rollups(repos) == []
    # One answer moved from one score to another: as many responses, other figures.
    kept = await db[FINEST_COLLECTION].find_one({"region": "north"})
    assert kept is not None
    cube = FINEST.name.replace("+", "_")
    name, cell = next(iter(kept["cubes"][cube].items()))
    score = next(iter(cell["nps"]))
    other = "0" if score != "0" else "1"
    moved = {f"cubes.{cube}.{name}.nps.{score}": -1, f"cubes.{cube}.{name}.nps.{other}": 1}
    await db[FINEST_COLLECTION].update_one({"_id": kept["_id"]}, {"$inc": moved})

    differences = await verify_rollups(repos)

    assert differences
    assert all("2026-02" in d.describe() and "region=north" in d.describe() for d in differences)
