"""The background sweep's round: what each round does besides escalations and windows."""

from __future__ import annotations

from api.storage.client import MongoDatabase, MongoUnitOfWork
from api.storage.sweeper import sweep_once
from domain.aggregates.service import verify_rollups
from domain.feedback.service import submit_feedback
from domain.repositories import Repositories
from tests import factories as f
from tests.domain.test_closed_loop import CUSTOMER, NOW, detractor


async def test_a_round_folds_the_rollup_and_alert_handling_shards_responses_were_written_into(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customers = [f.customer(region="north") for _ in range(8)]
    await repos.customers.insert_many(customers)
    for n, customer in enumerate(customers):
        await submit_feedback(
            repos, uow, submitter=CUSTOMER, submission=detractor(customer.id, key=f"k{n}"), now=NOW
        )
    assert await db["rollups"].count_documents({"shard": {"$gt": 0}}) > 0
    # The alerts they raised, on a day now over: each entry in its shard of the day's pack.
    assert await db["alertHandling"].count_documents({"shard": {"$gte": 0}}) > 1

    await sweep_once(repos, uow)

    assert await db["rollups"].count_documents({"shard": {"$gt": 0}}) == 0
    [pack] = await db["alertHandling"].find({}).to_list()
    assert len(pack["h"]) == len(customers)
    assert await verify_rollups(repos) == []
