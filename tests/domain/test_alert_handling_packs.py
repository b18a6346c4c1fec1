"""The packs of alert handling (``domain.alerts.handling``): written in shards, read newest first, folded by
the sweep once their day is over."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.aggregates.service import fold_alert_handling
from domain.alerts.handling import COLLECTION, SHARDS
from domain.alerts.models import Alert, Handling
from domain.repositories import Repositories
from domain.shards import shard_of
from domain.store import Session
from tests import factories as f

RAISED = datetime(2026, 10, 5, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def raised(at: datetime = RAISED) -> Alert:
    customer = f.customer()
    return f.alert(customer, f.feedback(customer, nps=1), now=at)


async def insert(repos: Repositories, uow: MongoUnitOfWork, alerts: list[Alert]) -> None:
    for alert in alerts:

        async def write(session: Session, alert: Alert = alert) -> None:
            await repos.alerts.insert(alert, session=session)

        await uow.run(write)


async def handled(repos: Repositories, *, assignee_id: str | None = None) -> list[Handling]:
    found = await repos.alert_handling.handled_between(
        RAISED - 10 * DAY, RAISED + 10 * DAY, regions=[], assignee_id=assignee_id
    )
    return sorted(found, key=lambda h: h.alert_id)


async def test_alerts_raised_in_one_region_on_one_day_are_kept_in_several_documents(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    # One document per day and region made every transaction raising an alert there conflict with the
    # others in flight; each alert's entry now goes to one of the shards, by its id.
    alerts = [raised() for _ in range(4 * SHARDS)]
    await insert(repos, uow, alerts)

    packs = await db[COLLECTION].find({}).to_list()
    assert len(packs) > 1
    assert {p["shard"] for p in packs} <= set(range(SHARDS))
    entries = [field for p in packs for field in p["h"]]
    assert len(entries) == len(set(entries)) == len(alerts)
    assert [h.alert_id for h in await handled(repos)] == sorted(a.id for a in alerts)


async def test_an_entry_set_after_a_rebuild_is_read_over_the_whole_packs_older_one(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    first, second = f.employee(), f.employee()
    alert = replace(raised(), assignee_id=first.id)
    await insert(repos, uow, [alert])
    await repos.alert_handling.replace_all(repos.alerts.handling_documents())  # a whole pack, no shard
    moved = replace(alert, assignee_id=second.id)
    await repos.alert_handling.keep([repos.alerts.to_document(moved)])  # its shard, newer

    # The older entry is not read, whichever filter would have let it through.
    assert await handled(repos, assignee_id=first.id) == []
    [current] = await handled(repos, assignee_id=second.id)
    assert current.assignee_id == second.id
    assert [h.assignee_id async for h in repos.alert_handling.everything()] == [second.id]


async def test_the_sweep_folds_the_shards_of_past_days_into_their_whole_pack(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    yesterday = [raised(RAISED - DAY) for _ in range(2 * SHARDS)]
    today = [raised(RAISED) for _ in range(2 * SHARDS)]
    await insert(repos, uow, [*yesterday, *today])
    before = await handled(repos)
    shards_today = await db[COLLECTION].count_documents({"day": "2026-10-05"})

    folded = await fold_alert_handling(repos, uow, now=RAISED)

    assert folded == _shards_folded(yesterday)
    [whole] = await db[COLLECTION].find({"day": "2026-10-04"}).to_list()
    assert "shard" not in whole
    assert len(whole["h"]) == len(yesterday)
    # Today's shards are left to the writers still raising alerts in them.
    assert await db[COLLECTION].count_documents({"day": "2026-10-05", "shard": {"$gte": 0}}) == shards_today
    assert await handled(repos) == before
    assert await fold_alert_handling(repos, uow, now=RAISED) == 0

    # An alert of a folded day changed later goes to its shard again, and is read from there.
    resolved = replace(yesterday[0], assignee_id="someone-else")
    await repos.alert_handling.keep([repos.alerts.to_document(resolved)])
    changed = {h.alert_id: h.assignee_id for h in await handled(repos)}
    assert changed[resolved.id] == "someone-else"
    assert await fold_alert_handling(repos, uow, now=RAISED) == 1
    assert {h.alert_id: h.assignee_id for h in await handled(repos)} == changed


def _shards_folded(alerts: list[Alert]) -> int:
    return len({shard_of(a.id, SHARDS) for a in alerts})


async def test_new_alerts_of_past_days_stored_in_bulk_go_to_their_days_whole_packs(
    db: MongoDatabase, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    # A data load or an import brings the history of many past days: in shards, every one of those days
    # left the sweep a fold to do (a thousand transactions in each server process for the bench's data).
    earlier = [raised(RAISED - DAY) for _ in range(2 * SHARDS)]
    today = [raised(RAISED) for _ in range(2 * SHARDS)]
    await repos.alerts.insert_many([*earlier, *today], today=RAISED.date())

    [whole] = await db[COLLECTION].find({"day": "2026-10-04"}).to_list()
    assert "shard" not in whole
    assert len(whole["h"]) == len(earlier)
    # Today's, as a request's, go to their shards: other writers are raising alerts there.
    assert await db[COLLECTION].count_documents({"day": "2026-10-05", "shard": None}) == 0
    assert await fold_alert_handling(repos, uow, now=RAISED) == 0
    assert [h.alert_id for h in await handled(repos)] == sorted(a.id for a in [*earlier, *today])

    # Changed later, such an alert goes to its shard, and is read from there.
    moved = replace(earlier[0], assignee_id="someone-else")
    await repos.alert_handling.keep([repos.alerts.to_document(moved)])
    assert {h.alert_id: h.assignee_id for h in await handled(repos)}[moved.id] == "someone-else"
