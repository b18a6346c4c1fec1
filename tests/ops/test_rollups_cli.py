"""``customer360 rollups verify`` finds drift and exits non-zero; ``rebuild`` repairs it, with progress."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.cli.seeding import first_start
from api.settings import Settings
from api.storage.client import MongoDatabase
from api.storage.embedded import free_port
from domain.aggregates.repository import FINEST_COLLECTION
from domain.aggregates.service import verify_rollups
from domain.alerts.repository import AlertRepository
from domain.repositories import Repositories
from tests import factories as f


def rollups(settings: Settings, action: str, *, uri: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER360_")}
    env |= {
        "MONGODB_URI": uri or str(settings.mongodb_uri),
        "CUSTOMER360_DATABASE_NAME": settings.database_name,
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name("customer360")), "rollups", action],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_verify_reports_drift_and_rebuild_repairs_it(
    settings: Settings, repos: Repositories, db: MongoDatabase
) -> None:
    customers = [f.customer() for _ in range(3)]
    responses = [f.feedback(c, occurred_at=f.NOW - timedelta(days=n)) for n, c in enumerate(customers)]
    await repos.customers.insert_many(customers)
    await repos.feedback.insert_many(responses)
    for response in responses[:2]:  # the third response is stored without its rollups
        await repos.rollups.add(response)
    # An alert stored without its handling's pack (as by a version before packs), and one whose pack is stale.
    unpacked, stale = (f.alert(customer, f.feedback(customer)) for customer in customers[:2])
    await db["alerts"].insert_one(AlertRepository.to_document(unpacked))
    await repos.alerts.insert(stale)
    await db["alerts"].update_one({"_id": stale.id}, {"$set": {"assigneeId": "someone-else"}})

    drifted = rollups(settings, "verify")
    assert drifted.returncode == 1, drifted.stderr
    assert "missing cell" in drifted.stdout
    assert f"alert {unpacked.id}: its handling is not packed" in drifted.stdout
    assert f"alert {stale.id}: packed handling differs from the alert's" in drifted.stdout
    assert "cells or alerts differ" in drifted.stdout

    rebuilt = rollups(settings, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "from 3 responses" in rebuilt.stdout
    assert "packed the handling of 2 alerts" in rebuilt.stdout

    agreed = rollups(settings, "verify")
    assert agreed.returncode == 0, agreed.stderr
    assert "rollups agree with the raw feedback" in agreed.stdout


async def test_a_development_start_builds_rollups_a_database_lacks(
    settings: Settings, repos: Repositories
) -> None:
    customers = [f.customer() for _ in range(2)]
    await repos.customers.insert_many(customers)
    await repos.feedback.insert_many([f.feedback(c) for c in customers])  # written before rollups existed

    await first_start(settings.model_copy(update={"demo_customers": 0}))

    assert await verify_rollups(repos) == []
    assert [cell async for cell in repos.rollups.everything()]


async def test_a_development_start_packs_the_handling_of_alerts_a_database_lacks(
    settings: Settings, repos: Repositories, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    response = f.feedback(customer, nps=1)
    await repos.feedback.insert_many([response])
    await repos.rollups.add(response)
    # Stored before alerts' handling was packed: loop performance would not see it.
    await db["alerts"].insert_one(AlertRepository.to_document(f.alert(customer, response)))

    await first_start(settings.model_copy(update={"demo_customers": 0}))

    assert await verify_rollups(repos) == []
    assert [h async for h in repos.alert_handling.everything()]


@pytest.mark.parametrize(
    "written_before",
    [
        {"days": "", "pending": ""},  # window counts: month documents held none
        {"pending": ""},  # running totals: month documents held them all, unmarked, and none were folded
    ],
)
async def test_a_development_start_adds_the_window_counts_a_database_lacks(
    settings: Settings, repos: Repositories, db: MongoDatabase, written_before: dict[str, str]
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    await f.store_feedback(repos, [f.feedback(customer)])
    # Month documents as written by an older version: the tactical check would see no answers.
    await db["rollups"].update_many({}, {"$unset": written_before})
    assert await verify_rollups(repos) != []

    await first_start(settings.model_copy(update={"demo_customers": 0}))

    assert await verify_rollups(repos) == []


async def test_a_development_start_keeps_whole_the_finest_months_a_database_lacks(
    settings: Settings, repos: Repositories, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    # Counted by intake, never swept: every month of the finest cube is summed from its days on read.
    await f.store_feedback(repos, [f.feedback(customer, occurred_at=datetime(2026, 2, 3, tzinfo=UTC))])
    assert await db[FINEST_COLLECTION].count_documents({}) == 0

    await first_start(settings.model_copy(update={"demo_customers": 0}))

    assert await db[FINEST_COLLECTION].count_documents({}) == 1
    assert await verify_rollups(repos) == []


async def test_a_development_start_rebuilds_nothing_when_every_month_counted_is_current(
    settings: Settings, repos: Repositories, db: MongoDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    # Responses of this month only: no month is over, so none has cells to keep whole yet.
    await f.store_feedback(repos, [f.feedback(customer, occurred_at=datetime.now(UTC))])

    await first_start(settings.model_copy(update={"demo_customers": 0}))

    assert "building them" not in capsys.readouterr().out
    assert await db[FINEST_COLLECTION].count_documents({}) == 0
    assert await verify_rollups(repos) == []


async def test_a_development_start_builds_lifecycle_cells_a_database_lacks(
    settings: Settings, repos: Repositories
) -> None:
    # Customers written before lifecycle cells existed: churn would read none of them.
    await repos.customers.insert_many([f.customer() for _ in range(2)], count_lifecycles=False)

    await first_start(settings.model_copy(update={"demo_customers": 0}))

    assert await verify_rollups(repos) == []
    assert [cell async for cell in repos.lifecycles.everything()]


def test_a_rebuild_the_database_fails_exits_3_with_one_line_and_says_it_can_be_run_again(
    settings: Settings,
) -> None:
    # Nothing listens there: the driver gives up selecting a server (after its own five seconds).
    nowhere = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"

    failed = rollups(settings, "rebuild", uri=nowhere)

    assert failed.returncode == 3, failed.stderr
    assert "Traceback" not in failed.stderr
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("customer360 rollups: the database failed (ServerSelectionTimeoutError: "), line
    assert line.endswith("a rebuild or an import that stopped part way can be run again"), line
