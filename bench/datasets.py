"""Benchmark data sets: the deterministic demo data at a chosen size, one database per size and seed.

A data set's database name carries a digest of the generator's source, so a changed generator gets a fresh
database instead of silently reusing stale data; an existing complete data set is reused. Its marker names
the layout its rollup cells were written in (``rollup_layout``): one written in another layout (by older
code, as one document per cell) gets its rollup and lifecycle cells rebuilt from its responses and customers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import api.demo.generator
import api.demo.vocabulary
from api.demo.loader import load
from api.storage.client import MongoDatabase, create_client, ensure_schema
from domain.aggregates.periods import Grain
from domain.aggregates.repository import STORED
from domain.aggregates.rollups import SHARDS
from domain.aggregates.service import rebuild_rollups
from domain.repositories import Repositories

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
MARKER = "benchmark"


def generator_digest() -> str:
    """A short digest of the demo generator's source: data sets made by other code are not reused."""
    digest = hashlib.sha256()
    for module in (api.demo.generator, api.demo.vocabulary):
        assert module.__file__ is not None
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:8]


def rollup_layout() -> str:
    """What the rollup cells look like: a data set whose cells were written otherwise gets them rebuilt."""
    held = ";".join(f"{grain.value}={','.join(c.name for c in STORED[grain])}" for grain in Grain)
    documents = "documents=zone,span,region,shard"
    kept = "customers=cell,dimension;window=running totals by month;finest months=whole apart"
    return f"shards={SHARDS};{documents};{held};{kept}"


async def rollups_current(db: MongoDatabase, marker: str, marker_id: str) -> bool:
    """Whether the complete data set marked ``marker_id`` in ``db[marker]`` has its rollup cells in
    ``rollup_layout``; when they are in another, they are rebuilt first (and False returned)."""
    found = await db[marker].find_one({"_id": marker_id})
    if found is not None and found.get("layout") == rollup_layout():
        return True
    await rebuild_rollups(Repositories.on(db))
    await db[marker].update_one({"_id": marker_id}, {"$set": {"layout": rollup_layout()}})
    return False


@dataclass(frozen=True, slots=True)
class DataSet:
    """A loaded data set: its database and what the scenarios need from it."""

    customers: int
    seed: int
    database_name: str
    regions: tuple[str, ...]
    busiest: tuple[str, ...]  # ids of the customers with the most records, for the customer-360 scenario


def database_name(customers: int, seed: int) -> str:
    return f"bench_{customers}_s{seed}_{generator_digest()}"


async def prepare(uri: str, *, customers: int, seed: int = 1) -> tuple[DataSet, bool]:
    """The data set of this size and seed, loaded unless a complete one exists; True when it was loaded."""
    name = database_name(customers, seed)
    client = create_client(uri)
    try:
        db = client[name]
        loaded = False
        if await db[MARKER].find_one({"_id": "dataset", "complete": True}) is None:
            await client.drop_database(name)
            await ensure_schema(db)
            await load(Repositories.on(db), customers=customers, seed=seed, as_of=AS_OF)
            await db[MARKER].insert_one(
                {"_id": "dataset", "customers": customers, "complete": True, "layout": rollup_layout()}
            )
            loaded = True
        else:
            await rollups_current(db, MARKER, "dataset")
        regions = tuple(sorted(await db["customers"].distinct("region")))
        return DataSet(customers, seed, name, regions, await _busiest(db)), loaded
    finally:
        await client.close()


async def _busiest(db: MongoDatabase, *, count: int = 20) -> tuple[str, ...]:
    """The customers with the most interactions and transactions: the fullest customer-360 pages."""
    pipeline: list[dict[str, Any]] = [
        {"$group": {"_id": "$customerId", "n": {"$sum": 1}}},
        {"$sort": {"n": -1, "_id": 1}},
        {"$limit": count},
    ]
    rows = await (await db["interactions"].aggregate(pipeline)).to_list()
    return tuple(row["_id"] for row in rows)
