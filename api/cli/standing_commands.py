"""``customer360 standings rebuild|verify``: recompute customers' standings and experience value, or check."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from tqdm import tqdm

from api.cli.progress import advance_to
from api.settings import Settings
from api.storage.client import MongoDatabase, create_client, ensure_schema
from api.storage.standing_worker import rebuild_under_lease
from domain.repositories import Repositories
from domain.standing import service
from domain.standing.service import Refreshed

SHOWN_DIFFERENCES = 20
# A running server's worker renews its lease every few seconds: give it that long to see it taken.
SETTLE_SECONDS = 6.0


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[tuple[MongoDatabase, Repositories]]:
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        await ensure_schema(db)
        yield db, Repositories.on(db, rollup_zones=settings.rollup_time_zones)
    finally:
        await client.close()


async def rebuild(settings: Settings, *, settle_seconds: float = SETTLE_SECONDS) -> Refreshed:
    """Replace every standing, band, observation and cell with the recomputation from raw data."""
    async with _database(settings) as (db, repos):
        with tqdm(unit="customer", desc="recomputing standings", disable=None) as bar:
            done = await rebuild_under_lease(
                db,
                repos,
                holder=f"rebuild:{os.getpid()}",
                settle_seconds=settle_seconds,
                progress=advance_to(bar),
            )
    print(f"rebuilt the standings of {done.customers} customers and {done.observations} value observations")
    return done


async def verify(settings: Settings) -> bool:
    """Compare every standing, band, observation and cell with a recomputation; True when they all agree."""
    async with _database(settings) as (_, repos):
        with tqdm(unit="customer", desc="recomputing", disable=None) as bar:
            verified = await service.verify(repos, now=datetime.now(UTC), progress=advance_to(bar))
    differences = verified.differences
    for difference in differences[:SHOWN_DIFFERENCES]:
        print(difference.describe())
    if len(differences) > SHOWN_DIFFERENCES:
        print(f"... and {len(differences) - SHOWN_DIFFERENCES} more")
    if verified.due:
        print(f"{verified.due} standings are due for the time sweep (not differences)")
    print(f"{len(differences)} differences" if differences else "standings agree with the raw data")
    return not differences
