"""``customer360 rollups rebuild|verify``: recompute the rollups (feedback, lifecycles), or check them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tqdm import tqdm

from api.cli.progress import advance_to
from api.settings import Settings
from api.storage.client import create_client, prepare_database
from domain.aggregates.service import Rebuilt, rebuild_rollups, verify_rollups
from domain.repositories import Repositories

SHOWN_DIFFERENCES = 20


@asynccontextmanager
async def _repositories(settings: Settings) -> AsyncIterator[Repositories]:
    client = create_client(str(settings.mongodb_uri))
    try:
        db = client[settings.database_name]
        await prepare_database(db)
        yield Repositories.on(db, rollup_zones=settings.rollup_time_zones)
    finally:
        await client.close()


async def rebuild(settings: Settings) -> Rebuilt:
    """Replace every rollup cell with the recomputation from raw feedback."""
    async with _repositories(settings) as repos:
        with (
            tqdm(unit="response", desc="reading feedback", disable=None) as reading,
            tqdm(unit="cell", desc="writing rollups", disable=None) as writing,
        ):
            rebuilt = await rebuild_rollups(repos, reading=advance_to(reading), writing=advance_to(writing))
    zones = ", ".join(settings.rollup_time_zones)
    print(
        f"rebuilt {rebuilt.cells} rollup cells from {rebuilt.responses} responses and "
        f"{rebuilt.lifecycle_cells} lifecycle cells from {rebuilt.customers} customers, and packed the "
        f"handling of {rebuilt.alerts} alerts (time zones: {zones})"
    )
    return rebuilt


async def verify(settings: Settings) -> bool:
    """Compare every rollup cell with a recomputation; True when they all agree."""
    async with _repositories(settings) as repos:
        with tqdm(unit="response", desc="recomputing", disable=None) as reading:
            differences = await verify_rollups(repos, progress=advance_to(reading))
    for difference in differences[:SHOWN_DIFFERENCES]:
        print(difference.describe())
    if len(differences) > SHOWN_DIFFERENCES:
        print(f"... and {len(differences) - SHOWN_DIFFERENCES} more")
    print(
        f"{len(differences)} cells or alerts differ"
        if differences
        else "rollups agree with the raw feedback, customers and alerts"
    )
    return not differences
