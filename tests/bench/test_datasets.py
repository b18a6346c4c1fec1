"""Reused bench data sets hold rollup cells in the layout the code reads, whoever wrote them."""

from __future__ import annotations

from api.storage.client import MongoDatabase
from bench import aggregates
from bench.datasets import rollup_layout
from domain.aggregates.service import verify_rollups
from domain.repositories import Repositories


async def test_an_aggregates_data_set_written_in_another_layout_gets_its_cells_rebuilt(
    db: MongoDatabase, repos: Repositories
) -> None:
    assert await aggregates.prepare(db, 20, 1) is not None  # loaded
    assert await aggregates.prepare(db, 20, 1) is None  # reused as it was
    marker = await db["benchMeta"].find_one({"_id": "aggregates"})
    assert marker is not None
    assert marker["layout"] == rollup_layout()

    # As older code left it: one document per cell, and a marker that names no layout.
    await db["rollups"].delete_many({})
    old = {"_id": '["north|region|day|2026-10-01", "north", 0]', "slot": "north|region|day|2026-10-01"}
    await db["rollups"].insert_one({**old, "zone": "north", "cube": "region", "responses": 3})
    await db["benchMeta"].update_one({"_id": "aggregates"}, {"$unset": {"layout": ""}})

    assert await aggregates.prepare(db, 20, 1) is not None  # the cells rebuilt, timed
    assert await db["rollups"].count_documents({"cubes": {"$exists": False}}) == 0
    assert await verify_rollups(repos) == []
    assert await aggregates.prepare(db, 20, 1) is None
