"""``customer360 lists audit`` reports free text in records and exits 1; ``--adopt`` lists it, then 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from api.settings import Settings
from api.storage.client import MongoDatabase
from domain.aggregates.service import verify_rollups
from domain.feedback.models import ScoreItem
from domain.lists.models import ListKind
from domain.repositories import Repositories
from tests import factories as f


def lists_audit(settings: Settings, *options: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER360_")}
    env |= {"MONGODB_URI": str(settings.mongodb_uri), "CUSTOMER360_DATABASE_NAME": settings.database_name}
    return subprocess.run(
        [str(Path(sys.executable).with_name("customer360")), "lists", "audit", *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def snapshot(db: MongoDatabase) -> list[list[dict[str, object]]]:
    return [
        await db[name].find({}).sort("_id").to_list() for name in ("feedback", "cases", "rollups", "lists")
    ]


async def test_a_clean_database_passes_the_audit(settings: Settings, repos: Repositories) -> None:
    customer = f.customer()
    await f.store_feedback(repos, [f.feedback(customer)])
    await repos.cases.insert_many([f.case(customer)])

    clean = lists_audit(settings)

    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.splitlines() == [
        "SERVICE_DIMENSION (feedback items): every value is listed",
        "CASE_CATEGORY (case categories): every value is listed",
        "ROOT_CAUSE (root causes): every value is listed",
    ]


async def test_the_audit_reports_free_text_and_adopts_it_only_when_asked(
    settings: Settings, repos: Repositories, db: MongoDatabase
) -> None:
    customers = [f.customer() for _ in range(3)]
    free_text = (ScoreItem("Speed", 5, 3), ScoreItem("price.$plan", 4, 4))
    await f.store_feedback(repos, [f.feedback(c, items=free_text) for c in customers[:2]])
    await f.store_feedback(repos, [f.feedback(customers[2])])
    await repos.cases.insert_many([f.case(customers[0], category="late"), f.case(customers[1])])
    before = await snapshot(db)

    found = lists_audit(settings)

    assert found.returncode == 1, found.stderr
    lines = found.stdout.splitlines()
    assert lines[:6] == [
        "SERVICE_DIMENSION (feedback items): 2 unlisted values, responses: 4",
        "  'Speed': responses 2, code 'speed'",
        "  'price.$plan': responses 2, code 'price-plan'",
        "CASE_CATEGORY (case categories): 1 unlisted value, cases: 1",
        "  'late': cases 1, code 'late'",
        "ROOT_CAUSE (root causes): every value is listed",
    ]
    assert "--adopt" in lines[6]
    assert await snapshot(db) == before

    adopted = lists_audit(settings, "--adopt")

    assert adopted.returncode == 1, adopted.stderr
    assert "added SERVICE_DIMENSION entry 'price-plan' ('price.$plan')" in adopted.stdout
    assert "added CASE_CATEGORY entry 'late' ('late')" in adopted.stdout
    assert "SERVICE_DIMENSION value 'Speed' is now 'speed' in 2 records" in adopted.stdout
    assert "SERVICE_DIMENSION value 'price.$plan' is now 'price-plan' in 2 records" in adopted.stdout
    assert "rebuilt" in adopted.stdout
    assert await verify_rollups(repos) == []

    assert await db["lists"].count_documents({}) == len(ListKind)  # each kind is one stored list
    again = lists_audit(settings)
    assert again.returncode == 0, again.stdout
