"""Persistence of rollup cells: counted up with each response, read per cube and time span.

Also the lifecycle cells churn is counted from, changed with each customer (``LifecycleRollupRepository``).

A cell's counts are increments, so concurrent responses add up without reading first; the cell's
distinct customers are kept up to CUSTOMERS_KEPT by a second, conditional update in the same command.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from domain.aggregates.churn import Lifecycle, LifecycleCounts, LifecycleKey, lifecycle_changes
from domain.aggregates.periods import Grain, Slot, add_months
from domain.aggregates.rollups import CUBES, Axis, CellKey, Cube, cells_of
from domain.aggregates.tally import CUSTOMERS_KEPT, DimensionTally, Tally
from domain.feedback.models import Feedback
from domain.feedback.scores import CSAT_SCORES, EFFORT_SCORES, NPS_SCORES
from domain.scope import RowScope, any_of
from domain.store import Database, Document, IndexSpec, Session

COLLECTION = "rollups"
HISTOGRAMS = (("nps", NPS_SCORES), ("csat", CSAT_SCORES), ("effort", EFFORT_SCORES))
CUBES_BY_NAME = {cube.name: cube for cube in CUBES}


def slot_key(zone: str, cube: Cube, slot: Slot) -> str:
    """The one indexed value a request selects cells by: zone, cube and time span."""
    return f"{zone}|{cube.name}|{slot.grain.value}|{slot.start.isoformat()}"


def _id(key: CellKey) -> str:
    return json.dumps(
        [slot_key(key.zone, key.cube, key.slot), *(value for _, value in key.values), key.shard]
    )


def _dimension_field(name: str) -> str:
    """Service dimension names are free text; hex keeps ``.`` and ``$`` out of field names."""
    return "d" + name.encode().hex()


def _dimension_name(field: str) -> str:
    return bytes.fromhex(field[1:]).decode()


def _counts(tally: Tally) -> dict[str, int]:
    """The tally as dotted paths to non-zero counts: increments for an update, or a new cell's content."""
    counts = {"responses": tally.responses, "indexed": tally.indexed, "indexSum": tally.index_sum}
    for name, scores in HISTOGRAMS:
        histogram: list[int] = getattr(tally, name)
        counts.update({f"{name}.{scores.start + n}": c for n, c in enumerate(histogram)})
    for dimension, d in tally.dimensions.items():
        prefix = f"dims.{_dimension_field(dimension)}"
        counts.update(
            {f"{prefix}.n": d.responses, f"{prefix}.gap": d.gap_sum, f"{prefix}.ratio": d.ratio_sum}
        )
    return {path: count for path, count in counts.items() if count}


def _capped_union(path: str, added: set[str]) -> Document:
    """An update expression: the stored customer list at ``path`` with ``added`` joined in, capped."""
    return {"$slice": [{"$setUnion": [{"$ifNull": [f"${path}", []]}, sorted(added)]}, CUSTOMERS_KEPT]}


def _increments(tally: Tally) -> Document:
    """One update stage adding ``tally`` into a stored cell: its counts, and who answered, capped.

    Past CUSTOMERS_KEPT a list may keep any of the customers: only "at least that many" matters then.
    """
    counts = _counts(tally)
    stage: Document = {path: {"$add": [{"$ifNull": [f"${path}", 0]}, n]} for path, n in counts.items()}
    if tally.customers:
        stage["customers"] = _capped_union("customers", tally.customers)
    for dimension, d in tally.dimensions.items():
        if d.customers:
            path = f"dims.{_dimension_field(dimension)}.customers"
            stage[path] = _capped_union(path, d.customers)
    return stage


def _identity(key: CellKey) -> Document:
    return {
        "slot": slot_key(key.zone, key.cube, key.slot),
        "zone": key.zone,
        "cube": key.cube.name,
        "grain": key.slot.grain.value,
        "start": key.slot.start.isoformat(),
        **{axis.value: value for axis, value in key.values},
        "shard": key.shard,
    }


def to_document(key: CellKey, tally: Tally) -> Document:
    """A whole cell, shaped exactly like one built up by increments (the non-zero counts of ``_counts``)."""
    document: Document = {"_id": _id(key), **_identity(key)}
    for name in ("responses", "indexed"):
        if count := getattr(tally, name):
            document[name] = count
    if tally.index_sum:
        document["indexSum"] = tally.index_sum
    for name, scores in HISTOGRAMS:
        histogram: list[int] = getattr(tally, name)
        if counts := {str(scores.start + n): c for n, c in enumerate(histogram) if c}:
            document[name] = counts
    dimensions = {}
    for dimension, d in tally.dimensions.items():
        parts = (("n", d.responses), ("gap", d.gap_sum), ("ratio", d.ratio_sum))
        if counts := {part: count for part, count in parts if count}:
            dimensions[_dimension_field(dimension)] = counts
    if dimensions:
        document["dims"] = dimensions
    document["customers"] = sorted(tally.customers)[:CUSTOMERS_KEPT]  # enough to tell any threshold
    for dimension, d in tally.dimensions.items():
        if d.customers:
            stored = document["dims"][_dimension_field(dimension)]
            stored["customers"] = sorted(d.customers)[:CUSTOMERS_KEPT]
    return document


def from_document(document: Document) -> tuple[CellKey, Tally]:
    cube = CUBES_BY_NAME[document["cube"]]
    values = tuple((d, str(document[d.value])) for d in Axis if d in cube.axes)
    slot = Slot(Grain(document["grain"]), date.fromisoformat(document["start"]))
    tally = Tally(
        responses=int(document.get("responses", 0)),
        indexed=int(document.get("indexed", 0)),
        index_sum=int(document.get("indexSum", 0)),
        customers=set(document.get("customers", ())),
    )
    for name, scores in HISTOGRAMS:
        stored = document.get(name, {})
        setattr(tally, name, [int(stored.get(str(score), 0)) for score in scores])
    for field, d in document.get("dims", {}).items():
        n, gap, ratio = (int(d.get(part, 0)) for part in ("n", "gap", "ratio"))
        tally.dimensions[_dimension_name(field)] = DimensionTally(n, gap, ratio, set(d.get("customers", ())))
    return CellKey(document["zone"], slot, cube, values, int(document.get("shard", 0))), tally


class RollupRepository:
    """Rollup cells in the reporting time zones; reads are limited to the scope's regions."""

    def __init__(
        self, db: Database, scope: RowScope | None = None, *, zones: Sequence[str] = ("UTC",)
    ) -> None:
        self._collection = db[COLLECTION]
        self._scope = scope or RowScope.everything()
        self.zones = tuple(zones)

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return [IndexSpec(COLLECTION, (("slot", 1),))]

    async def add(self, feedback: Feedback, *, session: Session | None = None) -> None:
        """Count one new response into every cell it belongs to (inside ``session``'s transaction)."""
        await self.add_many([feedback], session=session)

    async def add_many(self, responses: Sequence[Feedback], *, session: Session | None = None) -> None:
        """Count new responses into every cell they belong to (inside ``session``'s transaction).

        Each cell takes its responses' summed tally. Existing cells take theirs in one multi-document update
        per distinct tally (the cells of one response share theirs, as do cells of the same responses), so one
        response costs three statements however many cells, and a batch one update per distinct tally;
        missing cells are inserted whole. Concurrent transactions creating or changing the same cell
        conflict, and the transaction is retried.
        """
        cells: dict[str, tuple[CellKey, Tally]] = {}
        for feedback in responses:
            tally = Tally.of(feedback)
            for key in cells_of(feedback, self.zones):
                cells.setdefault(_id(key), (key, Tally()))[1].add(tally)
        query = {"_id": {"$in": list(cells)}}
        found = {d["_id"] async for d in self._collection.find(query, {"_id": 1}, session=session)}
        updates: dict[str, tuple[Document, list[str]]] = {}
        for cell in sorted(found):
            stage = _increments(cells[cell][1])
            updates.setdefault(json.dumps(stage, sort_keys=True), (stage, []))[1].append(cell)
        for stage, ids in updates.values():
            await self._collection.update_many({"_id": {"$in": ids}}, [{"$set": stage}], session=session)
        if missing := [to_document(key, tally) for cell, (key, tally) in cells.items() if cell not in found]:
            await self._collection.insert_many(missing, session=session)

    async def cells(
        self,
        zone: str,
        cube: Cube,
        slots: Sequence[Slot],
        where: Mapping[Axis, Sequence[str]],
    ) -> list[tuple[CellKey, Tally]]:
        """The cube's cells for these time spans whose axis values are among ``where``'s."""
        if self._scope.nothing or self._scope.customer_id is not None:
            return []
        narrow = any_of(**{d.value: values for d, values in where.items()})
        if self._scope.regions is not None:
            allowed = set(self._scope.regions)
            asked = where.get(Axis.REGION)
            regions = [r for r in asked if r in allowed] if asked else sorted(allowed)
            narrow[Axis.REGION.value] = {"$in": regions}
        # The time spans alone select by the index; axis values filter those few cells.
        pipeline: list[Document] = [
            {"$match": {"slot": {"$in": [slot_key(zone, cube, s) for s in dict.fromkeys(slots)]}}},
            *([{"$match": narrow}] if narrow else []),
        ]
        return [from_document(d) async for d in await self._collection.aggregate(pipeline)]

    async def everything(self) -> AsyncIterator[tuple[CellKey, Tally]]:
        """Every stored cell (for verifying them)."""
        async for document in self._collection.find({}):
            yield from_document(document)

    async def replace_all(
        self,
        cells: Mapping[CellKey, Tally],
        *,
        batch: int = 5000,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Drop every cell and store ``cells`` instead, telling ``progress`` how many are written."""
        await self._collection.delete_many({})
        await self.insert_cells(cells, batch=batch, progress=progress)

    async def insert_cells(
        self,
        cells: Mapping[CellKey, Tally],
        *,
        batch: int = 5000,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Store whole new cells in bulk (where none of them exist yet, as in a new database)."""
        written = 0
        for chunk in _chunks(list(cells.items()), batch):
            await self._collection.insert_many([to_document(k, t) for k, t in chunk], ordered=False)
            written += len(chunk)
            if progress is not None:
                progress(written)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    return (items[n : n + size] for n in range(0, len(items), size))


LIFECYCLE_COLLECTION = "lifecycleRollups"


def _lifecycle_id(key: LifecycleKey) -> str:
    return json.dumps([key.zone, key.slot.grain.value, key.slot.start.isoformat(), key.region, key.segment])


def lifecycle_document(key: LifecycleKey, counts: LifecycleCounts) -> Document:
    """A whole lifecycle cell."""
    return {
        "_id": _lifecycle_id(key),
        "zone": key.zone,
        "grain": key.slot.grain.value,
        "start": key.slot.start.isoformat(),
        "region": key.region,
        "segment": key.segment,
        "joined": counts.joined,
        "churned": counts.churned,
    }


def lifecycle_from_document(document: Document) -> tuple[LifecycleKey, LifecycleCounts]:
    slot = Slot(Grain(document["grain"]), date.fromisoformat(document["start"]))
    key = LifecycleKey(document["zone"], slot, document["region"], document["segment"])
    return key, LifecycleCounts(int(document.get("joined", 0)), int(document.get("churned", 0)))


class LifecycleRollupRepository:
    """Lifecycle cells (customers joined and churned) in the reporting time zones, read within the scope.

    A change adds to cells with ``$inc`` (a cell missing is created by the same upsert), so writers never
    read cells first, and a change retried with its transaction is counted once.
    """

    def __init__(
        self, db: Database, scope: RowScope | None = None, *, zones: Sequence[str] = ("UTC",)
    ) -> None:
        self._collection = db[LIFECYCLE_COLLECTION]
        self._scope = scope or RowScope.everything()
        self.zones = tuple(zones)

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return [IndexSpec(LIFECYCLE_COLLECTION, (("zone", 1), ("grain", 1), ("start", 1)))]

    async def change(
        self, before: Sequence[Lifecycle], after: Sequence[Lifecycle], *, session: Session | None = None
    ) -> None:
        """Count customers changing from ``before`` to ``after`` (new ones: in ``after`` only)."""
        for key, counts in sorted(lifecycle_changes(before, after, self.zones).items(), key=_by_id):
            identity = lifecycle_document(key, LifecycleCounts())
            del identity["joined"], identity["churned"]
            await self._collection.update_one(
                {"_id": identity.pop("_id")},
                {"$inc": {"joined": counts.joined, "churned": counts.churned}, "$setOnInsert": identity},
                upsert=True,
                session=session,
            )

    async def lifecycle_cells(
        self,
        zone: str,
        *,
        months_before: date,
        days_in: Sequence[date],
        regions: Sequence[str],
        segments: Sequence[str],
    ) -> list[tuple[LifecycleKey, LifecycleCounts]] | None:
        """Month cells before ``months_before`` and the day cells of the months ``days_in``, in scope."""
        if self._scope.nothing:
            return []
        if self._scope.customer_id is not None:
            return None
        narrow = any_of(region=regions, segment=segments)
        if self._scope.regions is not None:
            allowed = set(self._scope.regions)
            narrow["region"] = {"$in": [r for r in regions if r in allowed] if regions else sorted(allowed)}
        spans: list[Document] = [{"grain": Grain.MONTH.value, "start": {"$lt": months_before.isoformat()}}]
        spans += [
            {
                "grain": Grain.DAY.value,
                "start": {"$gte": month.isoformat(), "$lt": add_months(month, 1).isoformat()},
            }
            for month in days_in
        ]
        query = {"$and": [{"zone": zone}, {"$or": spans}, *([narrow] if narrow else [])]}
        return [lifecycle_from_document(d) async for d in self._collection.find(query)]

    async def everything(self) -> AsyncIterator[tuple[LifecycleKey, LifecycleCounts]]:
        """Every stored cell (for verifying them)."""
        async for document in self._collection.find({}):
            yield lifecycle_from_document(document)

    async def replace_all(self, cells: Mapping[LifecycleKey, LifecycleCounts]) -> None:
        """Drop every cell and store ``cells`` instead."""
        await self._collection.delete_many({})
        await self.insert_cells(cells)

    async def insert_cells(self, cells: Mapping[LifecycleKey, LifecycleCounts], *, batch: int = 5000) -> None:
        """Store whole new cells in bulk (where none of them exist yet, as in a new database)."""
        for chunk in _chunks([lifecycle_document(k, c) for k, c in cells.items() if c], batch):
            await self._collection.insert_many(chunk, ordered=False)


def _by_id(item: tuple[LifecycleKey, LifecycleCounts]) -> str:
    """Cells are written in one order, so that concurrent writers meet on the first cell they share."""
    return _lifecycle_id(item[0])
