"""Persistence of rollup cells: counted up with each response, read per cube and time span.

A document holds every cell of one zone, region, time span and shard, cube by cube: a response counts into
one day document and one month document, two writes however many cubes there are. Month documents hold the
four coarse cubes only, which every dashboard reads; the finest cube (every axis) is kept per day. Its month
cells are kept whole apart for months that are over (``finestMonths``, a document per zone, month and region,
written by the sweep once a month is over and again after a late response): such a document is used while it
counts as many responses as the month's own documents (responses are only ever added), else the month is
summed from its days, exactly (tallies merge exactly), as the current month always is. A month document
also takes its responses' window counts per day and touchpoint (``WindowCounts``: eight counts, no
customers), marked ``pending`` until the sweep folds them into the month's running totals of its region
(``windowTotals``, see ``domain/aggregates/window_totals.py``): what a touchpoint's rolling window of days is
judged on, at a cost that does not grow with the responses. Writes use classic update operators only (cheap
on every server): counts are ``$inc`` increments, so concurrent responses add up, and a cell keeps its
distinct customers up to CUSTOMERS_KEPT, added by ``$addToSet`` only while its list is short of that, as read
in the same transaction.

Also the lifecycle cells churn is counted from, changed with each customer (``LifecycleRollupRepository``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from domain.aggregates import window_totals
from domain.aggregates.churn import Lifecycle, LifecycleCounts, LifecycleKey, lifecycle_changes
from domain.aggregates.periods import (
    Grain,
    Period,
    Slot,
    add_months,
    local_day,
    month_start,
    months_of,
    time_zone,
)
from domain.aggregates.rollups import CUBES, SHARDS, Axis, CellKey, Cube, cube_for, shard_of, values_of
from domain.aggregates.tally import CUSTOMERS_KEPT, DimensionTally, Tally
from domain.aggregates.window_counts import WindowCounts
from domain.aggregates.window_totals import MonthDays, day_field
from domain.feedback.models import Feedback
from domain.feedback.scores import CSAT_SCORES, EFFORT_SCORES, NPS_SCORES
from domain.scope import RowScope, any_of
from domain.store import Database, Document, IndexSpec, Session

COLLECTION = "rollups"
HISTOGRAMS = (("nps", NPS_SCORES), ("csat", CSAT_SCORES), ("effort", EFFORT_SCORES))
CUBES_BY_NAME = {cube.name: cube for cube in CUBES}
FINEST = max(CUBES, key=lambda cube: len(cube.axes))
# The cubes a document of each grain holds; the finest cube's month cells are sums of its day cells.
STORED: dict[Grain, tuple[Cube, ...]] = {
    Grain.DAY: CUBES,
    Grain.MONTH: tuple(cube for cube in CUBES if cube is not FINEST),
}
# The cube whose day cells month documents also hold as window counts, under ``days.d<DD>.<touchpoint>``.
WINDOW_CUBE = cube_for([Axis.REGION, Axis.TOUCHPOINT])
TOTALS_COLLECTION = "windowTotals"
FINEST_COLLECTION = "finestMonths"
# The cube whose month cells count a month's responses: what a finest month document must count too.
REGION_CUBE = cube_for([Axis.REGION])


def slot_key(zone: str, slot: Slot) -> str:
    """The one indexed value a request selects documents by: zone and time span."""
    return f"{zone}|{slot.grain.value}|{slot.start.isoformat()}"


def _id(zone: str, slot: Slot, region: str, shard: int) -> str:
    return json.dumps([slot_key(zone, slot), region, shard])


def _cube_field(cube: Cube) -> str:
    return cube.name.replace("+", "_")


def _cell_field(values: Mapping[str, str]) -> str:
    """A cell's key within its cube: its axis values besides the region (free text, so hex)."""
    return "k" + json.dumps(sorted(values.items())).encode().hex()


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


def _window_path(day: date, touchpoint: str) -> str:
    return f"days.{day_field(day)}.{touchpoint}"


def _window_increments(days: MonthDays) -> dict[str, int]:
    """``$inc`` paths adding ``days``' window counts into a month document's (missing ones start at 0)."""
    return {
        f"{_window_path(day, touchpoint)}.{short}": n
        for (day, touchpoint), counts in days.items()
        for short, n in window_totals.stored(counts).items()
    }


def _days_document(days: MonthDays) -> Document:
    """A month document's ``days``, whole."""
    document: Document = {}
    for (day, touchpoint), counts in sorted(days.items()):
        document.setdefault(day_field(day), {})[touchpoint] = window_totals.stored(counts)
    return document


def stored_days(document: Document, touchpoints: Collection[str] = ()) -> MonthDays:
    """The window counts a month document holds, pending (none for a day document): of ``touchpoints`` only,
    when given (the others are not decoded)."""
    month = date.fromisoformat(document["start"])
    days: MonthDays = {}
    for field, by_touchpoint in document.get("days", {}).items():
        day = window_totals.day_of(month, field)
        for touchpoint, counts in by_touchpoint.items():
            if touchpoints and touchpoint not in touchpoints:
                continue
            days[(day, touchpoint)] = window_totals.from_stored(counts)
    return days


def _add_day(into: MonthDays, day: date, touchpoint: str, counts: WindowCounts) -> None:
    into.setdefault((day, touchpoint), WindowCounts()).add(counts)


def _add_days(into: MonthDays, days: MonthDays) -> None:
    for (day, touchpoint), counts in days.items():
        _add_day(into, day, touchpoint, counts)


def _increments(cell: str, tally: Tally) -> dict[str, int]:
    """``$inc`` paths adding ``tally``'s counts into the stored cell at ``cell`` (missing ones start at 0)."""
    return {f"{cell}.{path}": n for path, n in _counts(tally).items()}


def _customer_lists(cell: str, tally: Tally) -> dict[str, set[str]]:
    """The cell's customer lists ``tally`` has customers for (the cell's, and each rated dimension's)."""
    lists = {f"{cell}.customers": tally.customers} if tally.customers else {}
    for dimension, d in tally.dimensions.items():
        if d.customers:
            lists[f"{cell}.dims.{_dimension_field(dimension)}.customers"] = d.customers
    return lists


def _at(document: Document | None, path: str) -> Any:
    """The value at a dotted ``path`` of ``document`` (None where missing)."""
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _joined(stored: Sequence[str] | None, added: set[str]) -> list[str]:
    """Who to add to a stored customer list so that it is complete up to CUSTOMERS_KEPT, and no longer.

    A list holding CUSTOMERS_KEPT already takes nobody: past that only "at least that many" matters.
    """
    kept = set(stored or ())
    room = CUSTOMERS_KEPT - len(kept)
    return sorted(added - kept)[:room] if room > 0 else []


def _axis_values(cube: Cube, values: Mapping[Axis, str]) -> dict[str, str]:
    """The cube's axis values besides the region (which the document holds), by axis name."""
    return {axis.value: values[axis] for axis in Axis if axis in cube.axes and axis is not Axis.REGION}


def _identity(zone: str, slot: Slot, region: str, shard: int) -> Document:
    return {
        "slot": slot_key(zone, slot),
        "zone": zone,
        "grain": slot.grain.value,
        "start": slot.start.isoformat(),
        "region": region,
        "shard": shard,
    }


# The cells one document's responses count in: (cube field, cell field) -> (axis values, summed tally).
Cells = dict[tuple[str, str], tuple[dict[str, str], Tally]]


def _increment(cells: Cells, days: MonthDays, stored: Document) -> Document:
    """The update counting tallies into the cells of a stored document (and window counts into its days),
    with classic operators only: ``$inc`` creates the counts of a cell seen for the first time, whose axis
    values are ``$set``; a customer list takes only who it misses while short of CUSTOMERS_KEPT
    (``$addToSet``), from the document as ``stored`` (its cells' values and customer lists, read in the same
    transaction)."""
    sets: Document = {}
    increments: dict[str, int] = _window_increments(days)
    added: Document = {}
    for (cube, key), (axes, tally) in cells.items():
        cell = f"cubes.{cube}.{key}"
        if _at(stored, f"{cell}.values") is None:
            sets[f"{cell}.values"] = axes
        increments.update(_increments(cell, tally))
        for path, who in _customer_lists(cell, tally).items():
            if joined := _joined(_at(stored, path), who):
                added[path] = {"$each": joined}
    update: Document = {"$inc": increments}
    if sets:
        update["$set"] = sets
    if added:
        update["$addToSet"] = added
    return update


def _stored_fields(cells: Cells) -> list[str]:
    """What ``_increment`` reads of a stored document: its cells' axis values and customer lists."""
    fields: list[str] = []
    for (cube, key), (_, tally) in cells.items():
        cell = f"cubes.{cube}.{key}"
        fields += [f"{cell}.values", *_customer_lists(cell, tally)]
    return fields


def _new_document(document_id: str, identity: Document, cells: Cells, days: MonthDays) -> Document:
    """A document not stored yet, whole: what ``_increment`` would build up in it."""
    cubes: dict[str, Document] = {}
    for (cube, key), (axes, tally) in cells.items():
        cubes.setdefault(cube, {})[key] = _cell_document(tally, axes)
    document = {"_id": document_id, **identity, "cubes": cubes}
    if days:
        document["days"] = _days_document(days)
        document["pending"] = identity["slot"]
    return document


def _cell_document(tally: Tally, axes: Mapping[str, str]) -> Document:
    """A whole cell, shaped exactly like one built up by increments."""
    cell: Document = {"values": dict(axes)}
    for path, count in _counts(tally).items():
        *parents, leaf = path.split(".")
        node = cell
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = count
    cell["customers"] = sorted(tally.customers)[:CUSTOMERS_KEPT]  # enough to tell any threshold
    for dimension, d in tally.dimensions.items():
        if d.customers:
            cell["dims"][_dimension_field(dimension)]["customers"] = sorted(d.customers)[:CUSTOMERS_KEPT]
    return cell


def to_documents(cells: Mapping[CellKey, Tally]) -> list[Document]:
    """Whole documents holding ``cells`` (those of the finest cube by month are left out: summed on read)."""
    documents: dict[str, Document] = {}
    for key, tally in cells.items():
        if key.cube not in STORED[key.slot.grain]:
            continue
        region = key.value(Axis.REGION) or ""
        document_id = _id(key.zone, key.slot, region, key.shard)
        identity = _identity(key.zone, key.slot, region, key.shard)
        document = documents.setdefault(document_id, {"_id": document_id, **identity, "cubes": {}})
        axes = {axis.value: value for axis, value in key.values if axis is not Axis.REGION}
        cube = document["cubes"].setdefault(_cube_field(key.cube), {})
        cube[_cell_field(axes)] = _cell_document(tally, axes)
    return list(documents.values())


def _totals_slot(zone: str, month: date) -> str:
    return f"{zone}|{month.isoformat()}"


def _totals_id(zone: str, month: date, region: str) -> str:
    return json.dumps([_totals_slot(zone, month), region])


def _totals_document(zone: str, month: date, region: str, days: MonthDays) -> Document:
    return {
        "_id": _totals_id(zone, month, region),
        "slot": _totals_slot(zone, month),
        "zone": zone,
        "month": month.isoformat(),
        "region": region,
        "days": window_totals.running_totals(month, days),
    }


def _spans_query(field: str, spans: Iterable[str], regions: Sequence[str] | None) -> Document:
    """The documents whose ``field`` is one of these time spans (of these regions; None: every region): the
    spans alone select by the index, the regions filter those few documents."""
    query: Document = {field: {"$in": list(spans)}}
    if regions is not None:
        query["region"] = {"$in": list(regions)}
    return query


def _totals_query(zone: str, months: Iterable[date], regions: Sequence[str] | None) -> Document:
    """The running totals of these months (of these regions; None: every region)."""
    return _spans_query("slot", [_totals_slot(zone, month) for month in months], regions)


def window_totals_documents(cells: Mapping[CellKey, Tally]) -> list[Document]:
    """The running window totals of ``cells``' window cube day cells (shards summed), one document per zone,
    month and region."""
    months: dict[tuple[str, date, str], MonthDays] = {}
    for key, tally in cells.items():
        if key.cube is WINDOW_CUBE and key.slot.grain is Grain.DAY:
            day = key.slot.start
            month = months.setdefault((key.zone, month_start(day), key.value(Axis.REGION) or ""), {})
            _add_day(month, day, key.value(Axis.TOUCHPOINT) or "", WindowCounts.of(tally))
    return [_totals_document(zone, month, region, days) for (zone, month, region), days in months.items()]


def _fields(cube: Cube) -> Document:
    """The projection of a document's identity and one cube's cells."""
    identity = dict.fromkeys(("zone", "grain", "start", "region", "shard"), 1)
    return {**identity, f"cubes.{_cube_field(cube)}": 1}


def _months_query(zone: str, months: Sequence[date], regions: Sequence[str] | None) -> Document:
    """The documents of these months (of these regions; None: every region), by the index on ``slot``."""
    return _spans_query("slot", [slot_key(zone, Slot(Grain.MONTH, month)) for month in months], regions)


def _over(zone: str, month: date, now: datetime) -> bool:
    """Whether the month has ended in the zone at ``now``."""
    return add_months(month, 1) <= local_day(now, time_zone(zone))


def _finest_id(zone: str, month: date, region: str) -> str:
    return json.dumps([slot_key(zone, Slot(Grain.MONTH, month)), region])


def _finest_document(zone: str, month: date, region: str, cells: Iterable[tuple[CellKey, Tally]]) -> Document:
    """The finest cube's month cells of one zone, month and region, whole (their shards summed)."""
    cube: Document = {}
    for key, tally in _whole(cells).items():
        axes = {axis.value: value for axis, value in key.values if axis is not Axis.REGION}
        cube[_cell_field(axes)] = _cell_document(tally, axes)
    identity = _identity(zone, Slot(Grain.MONTH, month), region, 0)
    return {"_id": _finest_id(zone, month, region), **identity, "cubes": {_cube_field(FINEST): cube}}


def finest_month_documents(cells: Mapping[CellKey, Tally]) -> list[Document]:
    """The finest cube's month cells summed from ``cells``' day cells, a document per zone, month, region."""
    months: dict[tuple[str, date, str], list[tuple[CellKey, Tally]]] = {}
    for key, tally in cells.items():
        if key.cube is FINEST and key.slot.grain is Grain.DAY:
            where = (key.zone, month_start(key.slot.start), key.value(Axis.REGION) or "")
            months.setdefault(where, []).append((key, tally))
    return [
        _finest_document(zone, month, region, _month_of_days(days).items())
        for (zone, month, region), days in months.items()
    ]


def _whole(cells: Iterable[tuple[CellKey, Tally]]) -> dict[CellKey, Tally]:
    """Cells with their shards summed."""
    whole: dict[CellKey, Tally] = {}
    for key, tally in cells:
        whole.setdefault(key.whole, Tally()).add(tally)
    return whole


def _responses(cells: Iterable[tuple[CellKey, Tally]]) -> int:
    return sum(tally.responses for _, tally in cells)


def _up_to_date(kept: Sequence[tuple[CellKey, Tally]], counted: int) -> bool:
    """Whether a month's finest cells kept whole count the responses its month documents count: responses
    are only ever added, so the same number means the same responses."""
    return _responses(kept) == counted


# Each histogram's stored keys, in score order, worked out once: a read decodes cells by the hundred thousand.
_HISTOGRAM_KEYS = tuple((name, tuple(str(score) for score in scores)) for name, scores in HISTOGRAMS)
_AXES = {axis.value: axis for axis in Axis}


def _tally(cell: Document) -> Tally:
    tally = Tally(
        responses=int(cell.get("responses", 0)),
        indexed=int(cell.get("indexed", 0)),
        index_sum=int(cell.get("indexSum", 0)),
        customers=set(cell.get("customers", ())),
    )
    for name, keys in _HISTOGRAM_KEYS:
        if stored := cell.get(name):  # none stored: the tally's zeros stand
            setattr(tally, name, [int(stored.get(key, 0)) for key in keys])
    for field, d in cell.get("dims", {}).items():
        n, gap, ratio = (int(d.get(part, 0)) for part in ("n", "gap", "ratio"))
        tally.dimensions[_dimension_name(field)] = DimensionTally(n, gap, ratio, set(d.get("customers", ())))
    return tally


def from_document(document: Document, cubes: Iterable[Cube] = CUBES) -> list[tuple[CellKey, Tally]]:
    """The cells of ``cubes`` a document holds."""
    slot = Slot(Grain(document["grain"]), date.fromisoformat(document["start"]))
    region, shard, zone = str(document["region"]), int(document.get("shard", 0)), document["zone"]
    found = []
    for cube in cubes:
        ordered = cube.ordered
        for cell in document.get("cubes", {}).get(_cube_field(cube), {}).values():
            axes = {Axis.REGION: region, **{_AXES[name]: str(v) for name, v in cell["values"].items()}}
            values = tuple((axis, axes[axis]) for axis in ordered)
            found.append((CellKey(zone, slot, cube, values, shard), _tally(cell)))
    return found


def _month_of_days(cells: Iterable[tuple[CellKey, Tally]]) -> dict[CellKey, Tally]:
    """Day cells summed into the cells of their months."""
    months: dict[CellKey, Tally] = {}
    for key, tally in cells:
        slot = Slot(Grain.MONTH, month_start(key.slot.start))
        months.setdefault(CellKey(key.zone, slot, key.cube, key.values, key.shard), Tally()).add(tally)
    return months


def _days_of(month: date) -> list[Slot]:
    days = (add_months(month, 1) - month).days
    return [Slot(Grain.DAY, month + timedelta(days=n)) for n in range(days)]


@dataclass(frozen=True, slots=True)
class ShardedCells:
    """The documents of one zone, time span and region: split over shards while responses come in."""

    zone: str
    slot: Slot
    region: str


def _empty(sharded: ShardedCells) -> Document:
    document_id = _id(sharded.zone, sharded.slot, sharded.region, 0)
    return {"_id": document_id, **_identity(sharded.zone, sharded.slot, sharded.region, 0), "cubes": {}}


class RollupRepository:
    """Rollup cells in the reporting time zones; reads are limited to the scope's regions."""

    def __init__(
        self, db: Database, scope: RowScope | None = None, *, zones: Sequence[str] = ("UTC",)
    ) -> None:
        self._collection = db[COLLECTION]
        self._totals = db[TOTALS_COLLECTION]
        self._finest = db[FINEST_COLLECTION]
        self._scope = scope or RowScope.everything()
        self.zones = tuple(zones)

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        # ``shard`` and ``pending`` find the documents the sweep folds (few: only those written since).
        return [
            IndexSpec(COLLECTION, (("slot", 1),)),
            IndexSpec(COLLECTION, (("shard", 1),)),
            IndexSpec(COLLECTION, (("pending", 1),)),
            IndexSpec(TOTALS_COLLECTION, (("slot", 1),)),
            IndexSpec(FINEST_COLLECTION, (("slot", 1),)),
        ]

    async def sharded(self, *, limit: int) -> list[ShardedCells]:
        """Up to ``limit`` zone, time span and region whose cells are split over more than shard 0, or whose
        window counts are not folded into the running totals yet."""
        fields = dict.fromkeys(("zone", "grain", "start", "region"), 1)
        found: dict[tuple[str, str, str, str], None] = {}
        for query in ({"shard": {"$gt": 0}}, {"pending": {"$gt": ""}}):
            async for document in self._collection.find(query, fields).limit(limit * SHARDS):
                found[(document["zone"], document["grain"], document["start"], document["region"])] = None
        return [
            ShardedCells(zone, Slot(Grain(grain), date.fromisoformat(start)), region)
            for zone, grain, start, region in list(found)[:limit]
        ]

    async def compact(self, sharded: ShardedCells, *, session: Session, now: datetime) -> int:
        """Fold the cells of every shard of ``sharded`` into shard 0, and their pending window counts into the
        month's running totals (in ``session``'s transaction, which a response counted into one of them at
        the same time conflicts with); the documents folded. A month that is over at ``now`` had a late
        response: its finest cube's month cells are written again too."""
        query = {"slot": slot_key(sharded.zone, sharded.slot), "region": sharded.region}
        documents = await self._collection.find(query, session=session).to_list(None)
        if len(documents) < 2 and all(d.get("shard", 0) == 0 and "pending" not in d for d in documents):
            return 0
        whole = _whole(cell for document in documents for cell in from_document(document))
        days: MonthDays = {}
        for document in documents:
            _add_days(days, stored_days(document))
        (merged,) = to_documents(whole) or [_empty(sharded)]
        if days:
            await self._fold_days(sharded, days, session=session)
        folded = [d["_id"] for d in documents if d["_id"] != merged["_id"]]
        await self._collection.replace_one({"_id": merged["_id"]}, merged, upsert=True, session=session)
        await self._collection.delete_many({"_id": {"$in": folded}}, session=session)
        if sharded.slot.grain is Grain.MONTH and _over(sharded.zone, sharded.slot.start, now):
            await self.seal(sharded.zone, sharded.slot.start, sharded.region, session=session)
        return len(folded)

    async def seal(self, zone: str, month: date, region: str, *, session: Session) -> None:
        """Write the finest cube's cells of this month and region whole, summed from its days (in
        ``session``'s transaction: a snapshot of the days)."""
        cells = await self._days_summed(zone, [(month, region)], session=session)
        document = _finest_document(zone, month, region, cells)
        await self._finest.replace_one({"_id": document["_id"]}, document, upsert=True, session=session)

    async def counted_before(self, zone: str, month: date) -> bool:
        """Whether a month before ``month`` has responses counted (its month documents exist).

        A range of the slot index over month slots only: the embedded database reads every match of a
        query before its limit, and the months' documents are a few dozen where the days' are thousands."""
        first, end = (slot_key(zone, Slot(Grain.MONTH, start)) for start in (date.min, month))
        return await self._collection.find_one({"slot": {"$gte": first, "$lt": end}}, {"_id": 1}) is not None

    async def unsealed(self, zone: str, month: date) -> list[str]:
        """The regions whose finest month cells of this month are missing or count other responses than the
        month's documents (a response came in since they were written)."""
        totals = await self._month_totals(zone, [month], None)
        kept = await self._finest_kept(zone, [month], None, totals)
        return sorted(region for (_, region), n in totals.items() if n and (month, region) not in kept)

    async def _fold_days(self, sharded: ShardedCells, days: MonthDays, *, session: Session) -> None:
        """Add a month's pending window counts into its running totals."""
        month = sharded.slot.start
        totals_id = _totals_id(sharded.zone, month, sharded.region)
        found = await self._totals.find_one({"_id": totals_id}, session=session)
        month_days = window_totals.daily(month, found["days"]) if found is not None else {}
        _add_days(month_days, days)
        document = _totals_document(sharded.zone, month, sharded.region, month_days)
        await self._totals.replace_one({"_id": totals_id}, document, upsert=True, session=session)

    async def add(self, feedback: Feedback, *, session: Session | None = None) -> None:
        """Count one new response into every cell it belongs to (inside ``session``'s transaction)."""
        await self.add_many([feedback], session=session)

    async def add_many(self, responses: Sequence[Feedback], *, session: Session | None = None) -> None:
        """Count new responses into every cell they belong to (inside ``session``'s transaction).

        Each document the responses fall in (per reporting zone, their region's day and month, by shard)
        takes its cells' summed tallies: one read of the documents' cell values and customer lists, then
        classic increments (``$inc``, ``$set``, ``$addToSet``), one ``update_many`` per distinct update
        (the zones' day documents of a response usually share theirs, as do its month documents), and
        the documents missing are inserted whole. A response writes two documents per zone however many
        cubes. Concurrent transactions changing or creating the same document conflict, and the
        transaction is retried; so a customer list read short of CUSTOMERS_KEPT is still so when written.
        """
        documents: dict[str, tuple[Document, Cells, MonthDays]] = {}
        for feedback in responses:
            tally = Tally.of(feedback)
            counts = WindowCounts.of(tally)
            values = values_of(feedback)
            region, shard = values[Axis.REGION], shard_of(feedback)
            for zone in self.zones:
                day = local_day(feedback.occurred_at, time_zone(zone))
                for slot in (Slot(Grain.DAY, day), Slot(Grain.MONTH, month_start(day))):
                    identity = _identity(zone, slot, region, shard)
                    _, cells, days = documents.setdefault(_id(zone, slot, region, shard), (identity, {}, {}))
                    for cube in STORED[slot.grain]:
                        axes = _axis_values(cube, values)
                        cell = (_cube_field(cube), _cell_field(axes))
                        cells.setdefault(cell, (axes, Tally()))[1].add(tally)
                    if slot.grain is Grain.MONTH:
                        _add_day(days, day, values[Axis.TOUCHPOINT], counts)
        fields = dict.fromkeys(f for _, cells, _ in documents.values() for f in _stored_fields(cells))
        query = {"_id": {"$in": list(documents)}}
        found = {
            d["_id"]: d async for d in self._collection.find(query, dict.fromkeys(fields, 1), session=session)
        }
        updates: dict[str, tuple[Document, list[str]]] = {}
        for document_id in sorted(found):
            identity, cells, days = documents[document_id]
            update = _increment(cells, days, found[document_id])
            if days:  # for the sweep to fold into the month's running totals
                update.setdefault("$set", {})["pending"] = identity["slot"]
            updates.setdefault(json.dumps(update, sort_keys=True), (update, []))[1].append(document_id)
        for update, ids in updates.values():
            await self._collection.update_many({"_id": {"$in": ids}}, update, session=session)
        if missing := [_new_document(i, *documents[i]) for i in documents if i not in found]:
            await self._collection.insert_many(missing, session=session)

    async def cells(
        self,
        zone: str,
        cube: Cube,
        slots: Sequence[Slot],
        where: Mapping[Axis, Sequence[str]],
    ) -> list[tuple[CellKey, Tally]]:
        """The cube's cells for these time spans whose axis values are among ``where``'s."""
        if not self._readable():
            return []
        regions = self._regions(where)
        stored = [s for s in dict.fromkeys(slots) if cube in STORED[s.grain]]
        summed = sorted({s.start for s in slots if cube not in STORED[s.grain]})
        found: list[tuple[CellKey, Tally]] = []
        if stored:
            query = _spans_query("slot", [slot_key(zone, s) for s in stored], regions)
            found += [
                cell
                for document in await self._collection.find(query, _fields(cube)).to_list(None)
                for cell in from_document(document, (cube,))
            ]
        if summed:
            found += await self._finest_months(zone, summed, regions)
        return [
            (key, tally)
            for key, tally in found
            if all(not values or key.value(axis) in values for axis, values in where.items())
        ]

    async def _finest_months(
        self, zone: str, months: Sequence[date], regions: Sequence[str] | None
    ) -> list[tuple[CellKey, Tally]]:
        """The finest cube's cells of these months: kept whole where they count the month's responses,
        summed from the days elsewhere."""
        totals = await self._month_totals(zone, months, regions)
        kept = await self._finest_kept(zone, months, regions, totals)
        unsealed = [where for where, n in totals.items() if n and where not in kept]
        found = [cell for cells in kept.values() for cell in cells]
        return found + (await self._days_summed(zone, unsealed) if unsealed else [])

    async def _month_totals(
        self, zone: str, months: Sequence[date], regions: Sequence[str] | None
    ) -> dict[tuple[date, str], int]:
        """The responses counted in each of these months, by month and region (from the month documents)."""
        query = _months_query(zone, months, regions)
        totals: dict[tuple[date, str], int] = defaultdict(int)
        async for document in self._collection.find(query, _fields(REGION_CUBE)):
            totals[(date.fromisoformat(document["start"]), document["region"])] += _responses(
                from_document(document, (REGION_CUBE,))
            )
        return totals

    async def _finest_kept(
        self,
        zone: str,
        months: Sequence[date],
        regions: Sequence[str] | None,
        totals: Mapping[tuple[date, str], int],
    ) -> dict[tuple[date, str], list[tuple[CellKey, Tally]]]:
        """The finest month cells kept whole that count what their month's documents count, by month and
        region (any other is out of date: a response came in since it was written)."""
        kept = {}
        async for document in self._finest.find(_months_query(zone, months, regions)):
            cells = from_document(document, (FINEST,))
            where = (date.fromisoformat(document["start"]), document["region"])
            if _up_to_date(cells, totals.get(where, 0)):
                kept[where] = cells
        return kept

    async def _days_summed(
        self, zone: str, months: Sequence[tuple[date, str]], *, session: Session | None = None
    ) -> list[tuple[CellKey, Tally]]:
        """The finest cube's cells of these months and regions, summed from their days."""
        wanted = set(months)
        days = [slot_key(zone, day) for month in sorted({m for m, _ in wanted}) for day in _days_of(month)]
        query = {"slot": {"$in": days}, "region": {"$in": sorted({r for _, r in wanted})}}
        found = self._collection.find(query, _fields(FINEST), session=session)
        from_days = [
            (key, tally)
            async for document in found
            for key, tally in from_document(document, (FINEST,))
            if (month_start(key.slot.start), document["region"]) in wanted
        ]
        return list(_month_of_days(from_days).items())

    def _readable(self) -> bool:
        """Whether the scope reads any cells: none for a customer (cells mix customers) or no scope."""
        return not self._scope.nothing and self._scope.customer_id is None

    def _regions(self, where: Mapping[Axis, Sequence[str]]) -> list[str] | None:
        """The regions ``where`` asks for within the scope's (None: every region)."""
        regions: list[str] | None = list(where.get(Axis.REGION) or ()) or None
        if self._scope.regions is not None:
            allowed = set(self._scope.regions)
            regions = [r for r in regions if r in allowed] if regions else sorted(allowed)
        return regions

    async def window_sums(
        self, zone: str, periods: Collection[Period], where: Mapping[Axis, Sequence[str]]
    ) -> dict[tuple[str, str, Period], WindowCounts]:
        """The window counts of each region and touchpoint over each of ``periods``, narrowed by ``where``'s
        regions and touchpoints (none for a pair without responses then): from the running totals of the
        periods' months, two days of each per region, and the counts not folded into them yet."""
        periods = [p for p in periods if p.first <= p.last]
        if not self._readable() or not periods:
            return {}
        months = sorted({month for period in periods for month in months_of(period)})
        regions = self._regions(where)
        touchpoints = set(where.get(Axis.TOUCHPOINT) or ())
        fields = dict.fromkeys(("month", "region"), 1)
        for month in months:
            fields.update(
                dict.fromkeys((f"days.{f}" for f in window_totals.needed_fields(month, periods)), 1)
            )
        sums: dict[tuple[str, str, Period], WindowCounts] = {}
        for document in await self._totals.find(_totals_query(zone, months, regions), fields).to_list(None):
            month, totals = date.fromisoformat(document["month"]), document.get("days", {})
            found = {tp for by_touchpoint in totals.values() for tp in by_touchpoint}
            for touchpoint in found & touchpoints if touchpoints else found:
                for period in periods:
                    counts = window_totals.span_total(month, totals, period, touchpoint)
                    if counts.responses:
                        sums.setdefault((document["region"], touchpoint, period), WindowCounts()).add(counts)
        pending = await self._pending_days(zone, months, regions, touchpoints)
        for (region, touchpoint, day), counts in pending.items():
            for period in periods:
                if day in period:
                    sums.setdefault((region, touchpoint, period), WindowCounts()).add(counts)
        return sums

    async def window_days(
        self, zone: str, period: Period, where: Mapping[Axis, Sequence[str]]
    ) -> dict[tuple[str, str, date], WindowCounts]:
        """The window counts of each region, touchpoint and day of ``period`` with responses, narrowed by
        ``where``'s regions and touchpoints: from the running totals of the period's months (whole, a
        document per month and region) and the counts not folded into them yet."""
        if not self._readable() or period.last < period.first:
            return {}
        months = months_of(period)
        regions = self._regions(where)
        touchpoints = set(where.get(Axis.TOUCHPOINT) or ())
        found = await self._pending_days(zone, months, regions, touchpoints)
        fields = {"month": 1, "region": 1, "days": 1}
        for document in await self._totals.find(_totals_query(zone, months, regions), fields).to_list(None):
            month = date.fromisoformat(document["month"])
            for (day, touchpoint), counts in window_totals.daily(month, document.get("days", {})).items():
                if day in period and (not touchpoints or touchpoint in touchpoints):
                    found.setdefault((document["region"], touchpoint, day), WindowCounts()).add(counts)
        return {key: counts for key, counts in found.items() if key[2] in period}

    async def _pending_days(
        self, zone: str, months: Sequence[date], regions: Sequence[str] | None, touchpoints: Collection[str]
    ) -> dict[tuple[str, str, date], WindowCounts]:
        """The window counts of ``months`` that month documents hold, not folded into the running totals yet
        (by the ``pending`` index: none once the sweep has folded them)."""
        query = _spans_query("pending", [slot_key(zone, Slot(Grain.MONTH, m)) for m in months], regions)
        found: dict[tuple[str, str, date], WindowCounts] = {}
        async for document in self._collection.find(query, {"start": 1, "region": 1, "days": 1}):
            for (day, touchpoint), counts in stored_days(document, touchpoints).items():
                found.setdefault((document["region"], touchpoint, day), WindowCounts()).add(counts)
        return found

    async def every_window_day(self) -> AsyncIterator[tuple[tuple[str, str, str, date], WindowCounts]]:
        """Every stored window count (for verifying them), by zone, region, touchpoint and day: from the
        running totals, and from each month document holding some not folded into them yet."""
        async for document in self._totals.find({}):
            month = date.fromisoformat(document["month"])
            for (day, touchpoint), counts in window_totals.daily(month, document.get("days", {})).items():
                yield (document["zone"], document["region"], touchpoint, day), counts
        async for document in self._collection.find({"pending": {"$gt": ""}}):
            for (day, touchpoint), counts in stored_days(document).items():
                yield (document["zone"], document["region"], touchpoint, day), counts

    async def everything(self) -> AsyncIterator[tuple[CellKey, Tally]]:
        """Every cell (for verifying them): those stored, and the finest cube's months as reads take them
        (kept whole where they count their month's responses, else summed from the days)."""
        finest_days: dict[tuple[str, date, str], list[tuple[CellKey, Tally]]] = defaultdict(list)
        totals: dict[tuple[str, date, str], int] = defaultdict(int)
        async for document in self._collection.find({}):
            for key, tally in from_document(document):
                yield key, tally
                month = (key.zone, month_start(key.slot.start), str(document["region"]))
                if key.cube is FINEST and key.slot.grain is Grain.DAY:
                    finest_days[month].append((key, tally))
                elif key.cube is REGION_CUBE and key.slot.grain is Grain.MONTH:
                    totals[month] += tally.responses
        kept: dict[tuple[str, date, str], list[tuple[CellKey, Tally]]] = {}
        async for document in self._finest.find({}):
            cells = from_document(document, (FINEST,))
            month = (document["zone"], date.fromisoformat(document["start"]), str(document["region"]))
            if _up_to_date(cells, totals.get(month, 0)):
                kept[month] = cells
        for month, days in finest_days.items():
            for key, tally in kept[month] if month in kept else _month_of_days(days).items():
                yield key, tally

    async def replace_all(
        self,
        cells: Mapping[CellKey, Tally],
        *,
        batch: int = 50,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Drop every cell and store ``cells`` instead, telling ``progress`` how many are written."""
        await self._collection.delete_many({})
        await self._totals.delete_many({})
        await self._finest.delete_many({})
        await self.insert_cells(cells, batch=batch, progress=progress)

    async def insert_cells(
        self,
        cells: Mapping[CellKey, Tally],
        *,
        batch: int = 50,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Store whole new cells in bulk (where none of them exist yet, as in a new database), ``batch``
        documents at a time; ``progress`` is told how many of ``cells`` are done (the finest cube's months,
        written whole apart, are done last)."""
        written = 0
        for chunk in _chunks(to_documents(cells), batch):
            await self._collection.insert_many(chunk, ordered=False)
            written += sum(len(cube) for document in chunk for cube in document["cubes"].values())
            if progress is not None:
                progress(written)
        for chunk in _chunks(window_totals_documents(cells), batch):
            await self._totals.insert_many(chunk, ordered=False)
        for chunk in _chunks(finest_month_documents(cells), batch):
            await self._finest.insert_many(chunk, ordered=False)
        if progress is not None and written < len(cells):
            progress(len(cells))


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
