"""Persistence of standings and of the worklist's band counts.

A standing is stored with a version: every write is conditional on the version read before the inputs
were, so a standing computed from older inputs never overwrites one computed from newer ones. It is stored
with those inputs (the customer's records, ``domain.customer_history.Records``), so that the next
recomputation reads again only the kinds of record changed since. Band counts change in the same transaction
as the standings they count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from domain.customer_history import Records, records_document, records_from
from domain.documents import money_doc, money_from
from domain.money import Money
from domain.scope import RowScope, narrowed
from domain.standing.models import NextBestAction, Reason, ReasonCode, Standing
from domain.standing.worklist import WorklistFilter, bands_of, rank_of
from domain.store import Database, Document, IndexSpec, Session, VersionedWrite, write_all, write_versioned

COLLECTION = "standings"
BANDS = "worklistBands"


@dataclass(frozen=True, slots=True)
class Stored:
    """A standing as stored, with the version its next write is conditional on, and the records it was
    computed from (None: stored without them)."""

    standing: Standing
    version: int
    records: Records | None = None


@dataclass(frozen=True, slots=True)
class AtRisk:
    """A customer at risk: who, where, and its lifetime value."""

    customer_id: str
    region: str
    segment: str
    lifetime_value: Money


def to_document(standing: Standing, version: int, records: Records | None = None) -> Document:
    document = {
        "_id": standing.customer_id,
        "region": standing.region,
        "segment": standing.segment,
        "ownerId": standing.owner_id,
        "priority": standing.priority,
        "action": standing.action.value,
        "rank": rank_of(standing.priority, standing.customer_id),
        "reasons": [{"code": r.code.value, "text": r.text} for r in standing.reasons],
        "detractorAt": list(standing.detractor_at),
        "openAlerts": standing.open_alerts,
        "atRiskThrough": at_risk_through(standing),
        "lifetimeValue": money_doc(standing.lifetime_value),
        "computedAt": standing.computed_at,
        "recheckAt": standing.recheck_at,
        "version": version,
    }
    if records is not None:
        document["records"] = records_document(records)
    return document


# While an alert is open the customer stays at risk: no start of a window is later.
STILL_AT_RISK = datetime(9999, 12, 31, tzinfo=UTC)


def at_risk_through(standing: Standing) -> datetime | None:
    """The latest moment the customer was at risk: its last detractor response, or the end of time while an
    alert of its is open; None when neither. Revenue at risk reads the customers at risk in a window
    through its one index (``at_risk``): two indexes (an array of response times and the alert count) cost
    every standing write more than a third more of the database's time."""
    if standing.open_alerts:
        return STILL_AT_RISK
    return max(standing.detractor_at, default=None)


def from_document(document: Document) -> Stored:
    standing = Standing(
        customer_id=document["_id"],
        region=document["region"],
        segment=document["segment"],
        owner_id=document.get("ownerId"),
        priority=int(document["priority"]),
        action=NextBestAction(document["action"]),
        reasons=tuple(Reason(ReasonCode(r["code"]), r["text"]) for r in document.get("reasons", ())),
        detractor_at=tuple(document.get("detractorAt", ())),
        open_alerts=int(document.get("openAlerts", 0)),
        lifetime_value=money_from(document["lifetimeValue"]),
        computed_at=document["computedAt"],
        recheck_at=document.get("recheckAt"),
    )
    # Records kept in an older layout (not a string) are not used: the history is read whole instead.
    records = document.get("records")
    kept = records_from(records) if isinstance(records, str) else None
    return Stored(standing, int(document["version"]), kept)


def _counted(standing: Standing) -> list[tuple[str, str]]:
    """The band counters a standing adds one to: (band key, dotted path of its action and priority)."""
    path = f"counts.{standing.action.value}.{standing.priority}"
    return [(band, path) for band in bands_of(standing.region, standing.segment, standing.owner_id)]


def _write(old: Stored | None, new: Standing, records: Records | None) -> VersionedWrite:
    return VersionedWrite.over(
        new.customer_id, old.version if old is not None else None, partial(to_document, new, records=records)
    )


class StandingRepository:
    """Standings (one per customer, keyed by its id) and the band counts; reads are limited to the scope."""

    # The version of the stored documents' shape (2: ``atRiskThrough``, 3: ``records``, 4: ``records`` as
    # one string): stored in an older one, every standing is rebuilt.
    LAYOUT = 4

    def __init__(self, db: Database, scope: RowScope | None = None) -> None:
        self._db = db
        self._collection = db[COLLECTION]
        self._bands = db[BANDS]
        self._scope = (scope or RowScope.everything()).customer_filter()

    @classmethod
    def collections(cls) -> list[str]:
        """The collections this repository's transactions write that no index of its own creates."""
        return [BANDS]  # read by id only: any other index would cost every band write

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        """The worklist's order, the time sweep, and revenue at risk's two ways in."""
        return [
            # A worklist page walks one region's (or one owner's in a region) customers over a range of ranks.
            IndexSpec(COLLECTION, (("region", 1), ("rank", 1), ("_id", 1))),
            IndexSpec(COLLECTION, (("ownerId", 1), ("region", 1), ("rank", 1), ("_id", 1))),
            IndexSpec(COLLECTION, (("recheckAt", 1),)),
            IndexSpec(COLLECTION, (("atRiskThrough", 1),)),
        ]

    @classmethod
    def retired_indexes(cls) -> list[IndexSpec]:
        """Indexes earlier versions created, dropped at start-up: every index costs every write."""
        return [
            IndexSpec(COLLECTION, (("detractorAt", 1),)),
            IndexSpec(COLLECTION, (("openAlerts", 1),)),
            # Only made the band collection exist before its first transaction: ``collections`` does now.
            IndexSpec(BANDS, (("kind", 1),)),
        ]

    async def get_many(self, customer_ids: Sequence[str], *, records: bool = False) -> dict[str, Stored]:
        """The stored standings in scope of these customers, by customer id; with the records each was
        computed from when ``records`` (else they are not sent)."""
        query = narrowed({"_id": {"$in": list(customer_ids)}}, self._scope)
        fields = None if records else {"records": 0}
        return {d["_id"]: from_document(d) async for d in self._collection.find(query, fields)}

    async def save_all(
        self,
        changes: Sequence[tuple[Stored | None, Standing]],
        *,
        records: Mapping[str, Records] | None = None,
        session: Session,
    ) -> bool:
        """Store new standings over the ones read (with the records each was computed from, by customer),
        and their band counts, in ``session``'s transaction, in three commands whatever their number; False,
        with nothing written, when any standing changed since it was read (``save`` tells which)."""
        records = records or {}
        writes = [_write(old, new, records.get(new.customer_id)) for old, new in changes]
        if not await write_versioned(self._db, COLLECTION, writes, session=session):
            return False
        await self._count_bands(changes, session=session)
        return True

    async def _count_bands(
        self, changes: Sequence[tuple[Stored | None, Standing]], *, session: Session | None
    ) -> None:
        deltas: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for old, new in changes:
            for band, path in _counted(old.standing) if old else ():
                deltas[band][path] -= 1
            for band, path in _counted(new):
                deltas[band][path] += 1
        statements = [
            {
                "q": {"_id": band},
                "u": {"$inc": changed},
                "upsert": True,
            }
            for band, increments in sorted(deltas.items())
            if (changed := {path: n for path, n in increments.items() if n})
        ]
        if statements:
            await write_all(self._db, "update", BANDS, statements, session=session)

    async def save(
        self,
        changes: Sequence[tuple[Stored | None, Standing]],
        *,
        records: Mapping[str, Records] | None = None,
        session: Session,
    ) -> list[str]:
        """Store new standings over the ones read (None: none was), with the records each was computed from
        and their band counts, in ``session``'s transaction; the customers whose standing changed since it
        was read are returned, unsaved."""
        records = records or {}
        conflicts: list[str] = []
        saved_changes: list[tuple[Stored | None, Standing]] = []
        for old, new in changes:
            write = _write(old, new, records.get(new.customer_id))
            if not await write_versioned(self._db, COLLECTION, [write], session=session):
                conflicts.append(new.customer_id)
                continue
            saved_changes.append((old, new))
        await self._count_bands(saved_changes, session=session)
        return conflicts

    async def claim_due(self, now: datetime, *, until: datetime, limit: int) -> tuple[list[str], bool]:
        """Claim up to ``limit`` standings whose ``recheckAt`` has come, for this sweep alone: each is moved
        to ``until`` by a conditional update, so of concurrent sweeps exactly one claims it. The claimed
        customers, and whether more may be due."""
        due = await (
            self._collection.find({"recheckAt": {"$lte": now}}, {"recheckAt": 1, "version": 1}).limit(limit)
        ).to_list()
        claimed = []
        for document in due:
            result = await self._collection.update_one(
                {"_id": document["_id"], "version": document["version"], "recheckAt": document["recheckAt"]},
                {"$set": {"recheckAt": until}, "$inc": {"version": 1}},
            )
            if result.matched_count == 1:
                claimed.append(document["_id"])
        return claimed, len(due) == limit

    async def band_counts(self, keys: Sequence[str]) -> list[dict[str, dict[int, int]]]:
        """The counts per action and priority of these bands (missing bands count nothing)."""
        found = []
        async for document in self._bands.find({"_id": {"$in": list(keys)}}):
            counts = document.get("counts", {})
            found.append({action: {int(p): int(n) for p, n in by.items()} for action, by in counts.items()})
        return found

    async def page(
        self,
        where: WorklistFilter,
        *,
        regions: Sequence[str],
        after: str | None,
        before: str | None,
        limit: int,
    ) -> list[Standing]:
        """Up to ``limit`` standings in scope of these regions matching ``where``, in worklist order, with
        a rank after ``after`` and before ``before`` (either end open when None).

        One command per region: each walks the (region, rank) or (owner, region, rank) index over just the
        rank range, and the pages are merged here. A database serves a
        ``$match`` from an index only when every one of its fields is in it, so the index's fields come
        alone in the first stage and the rest of the filter in a second.
        """
        ranks: dict[str, str] = {}
        if after is not None:
            ranks["$gt"] = after
        if before is not None:
            ranks["$lt"] = before
        rest: dict[str, Any] = {}
        if where.actions:
            rest["action"] = {"$in": [a.value for a in where.actions]}
        if where.segments:
            rest["segment"] = {"$in": list(where.segments)}
        owner = {"ownerId": where.owner_id} if where.owner_id is not None else {}
        walks = [{**owner, "region": region} for region in dict.fromkeys(regions)]
        found: list[Document] = []
        for walk in walks:
            pipeline: list[dict[str, Any]] = [
                {"$match": {**walk, "rank": ranks} if ranks else walk},
                {"$match": narrowed(rest, self._scope)},
                {"$sort": {"rank": 1}},
                {"$limit": limit},
                {"$project": {"records": 0}},
            ]
            found += [d async for d in await self._collection.aggregate(pipeline)]
        found.sort(key=lambda d: str(d["rank"]))
        return [from_document(d).standing for d in found[:limit]]

    async def at_risk(self, start: datetime, end: datetime) -> list[AtRisk]:
        """Customers in scope with detractor feedback from ``start`` up to ``end``, or an open alert."""
        fields = {"region": 1, "segment": 1, "lifetimeValue": 1, "detractorAt": 1, "openAlerts": 1}
        # Those at risk at the start or later ride the index; the end is checked here, on each.
        query = narrowed({"atRiskThrough": {"$gte": start}}, self._scope)
        return [
            _at_risk(d)
            async for d in self._collection.find(query, fields)
            if d.get("openAlerts") or any(start <= at < end for at in d.get("detractorAt", ()))
        ]

    async def every(self) -> AsyncIterator[Stored]:
        """Every stored standing in scope (for verifying them)."""
        async for document in self._collection.find(narrowed({}, self._scope)):
            yield from_document(document)

    async def every_band(self) -> AsyncIterator[tuple[str, dict[str, dict[int, int]]]]:
        """Every band's counts (for verifying them)."""
        async for document in self._bands.find({}):
            counts = document.get("counts", {})
            yield (
                document["_id"],
                {action: {int(p): int(n) for p, n in by.items()} for action, by in counts.items()},
            )

    async def replace_all(
        self, standings: Sequence[Standing], *, records: Mapping[str, Records] | None = None
    ) -> None:
        """Drop every standing and band and store these instead (with the records each was computed from,
        by customer), with their counts (nothing else may be writing standings meanwhile)."""
        records = records or {}
        await self._collection.delete_many({})
        await self._bands.delete_many({})
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for standing in standings:
            for band, path in _counted(standing):
                counts[band][path] += 1
        for start in range(0, len(standings), 5000):
            chunk = standings[start : start + 5000]
            documents = [to_document(s, 1, records.get(s.customer_id)) for s in chunk]
            await self._collection.insert_many(documents, ordered=False)
        for band, increments in counts.items():
            await self._bands.update_one({"_id": band}, {"$inc": dict(increments)}, upsert=True)


def _at_risk(document: Document) -> AtRisk:
    return AtRisk(
        document["_id"], document["region"], document["segment"], money_from(document["lifetimeValue"])
    )
