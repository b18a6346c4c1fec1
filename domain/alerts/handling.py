"""The handling of operational alerts, packed for loop-performance reads: one document per day and region.

``loopPerformance`` needs a few fields of every alert raised in its period. Read from the alerts themselves,
a quarter of a large company is a hundred thousand documents, and a database pays for each document it
reads. Here each alert's handling is kept as one small entry of its raise day's and region's document, set
whenever the alert is written (in the same transaction), so a quarter is a few hundred documents however
many alerts it holds. An entry is the alert's whole current handling, so setting it again is harmless, and
``rebuild`` and ``verify`` compare the packs with the alerts.

Every alert raised in a region on one day was set in the same document, in the transaction that raised it:
concurrent submissions conflicted there and were retried whole (eight clients sending detractor responses
had more than one retry per response). So a day's and region's pack is written in ``SHARDS`` shards, each
alert's entry always in the same one (by its id), and a pack written whole (rebuilt, or by an earlier
version) has no shard. In 8 shards the same clients, over five regions, still met in one about once every
six responses; in 32, once every 25 to 50 (the closed-loop bench counts the conflicts). The sweep folds
the shards of past days into their whole pack (``fold``); an entry in a shard is always newer than the same
alert's in the whole pack, since a fold moves it there and deletes the shard, so reads take the shard's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.alerts.models import AlertAction, AlertKind, AlertState, Handling
from domain.scope import RowScope
from domain.shards import shard_of
from domain.store import Database, Document, IndexSpec, Session

COLLECTION = "alertHandling"
SHARDS = 32
# What an alert's handling is computed from (see ``handling_of``).
HANDLING_FIELDS = (
    "customerId",
    "region",
    "assigneeId",
    "occurredAt",
    "acknowledgeDueAt",
    "resolveDueAt",
    "state",
    "history",
    "nps",
    "recovery",
    "kind",
)


def handling_of(document: Document) -> Handling:
    """An alert's handling, from its stored document (at least ``HANDLING_FIELDS``)."""
    steps = [(AlertAction(h["action"]), h["at"]) for h in document.get("history", ())]
    resolved = None
    if document["state"] == AlertState.RESOLVED.value:
        done = (AlertAction.RESOLVED, AlertAction.CLEARED)
        resolved = next((at for action, at in reversed(steps) if action in done), None)
    recovery = document.get("recovery")
    return Handling(
        alert_id=document["_id"],
        customer_id=document.get("customerId"),
        region=document["region"],
        assignee_id=document.get("assigneeId"),
        raised_at=document["occurredAt"],
        acknowledge_due_at=document["acknowledgeDueAt"],
        resolve_due_at=document["resolveDueAt"],
        acknowledged_at=next(
            (at for action, at in steps if action in (AlertAction.ACKNOWLEDGED, AlertAction.RESOLVED)), None
        ),
        resolved_at=resolved,
        reopened=any(action is AlertAction.REOPENED for action, _ in steps),
        escalated=any(action is AlertAction.ESCALATED for action, _ in steps),
        nps=document.get("nps"),
        recovery_nps=recovery.get("nps") if recovery else None,
        recovered_at=recovery["at"] if recovery else None,
    )


def is_packed(document: Document) -> bool:
    """Whether an alert's handling is kept: operational alerts only (tactical ones are a manager's own)."""
    return bool(document.get("kind", AlertKind.OPERATIONAL.value) != AlertKind.TACTICAL.value)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
REOPENED, ESCALATED = 1, 2


def _ms(at: datetime) -> int:
    """An instant as whole milliseconds since the epoch, cut as the database cuts instants it stores."""
    return (_aware(at) - EPOCH) // MILLISECOND


def _ms_or_none(at: datetime | None) -> int | None:
    return None if at is None else _ms(at)


def _at(ms: int | None) -> datetime | None:
    return None if ms is None else EPOCH + ms * MILLISECOND


def _entry(handling: Handling) -> list[Any]:
    """One alert's handling as a pack entry: a list of numbers and ids, which cost little to read (field
    names would be most of its bytes, and a stored instant costs many times an integer to decode)."""
    h = handling
    flags = (REOPENED if h.reopened else 0) | (ESCALATED if h.escalated else 0)
    due = (_ms(h.raised_at), _ms(h.acknowledge_due_at), _ms(h.resolve_due_at))
    done = (_ms_or_none(h.acknowledged_at), _ms_or_none(h.resolved_at))
    return [
        h.customer_id,
        h.assignee_id,
        *due,
        *done,
        flags,
        h.nps,
        h.recovery_nps,
        _ms_or_none(h.recovered_at),
    ]


def _from_entry(alert_id: str, region: str, entry: list[Any]) -> Handling:
    customer, assignee, raised, ack_due, resolve_due, acked, resolved, flags, nps, recovery_nps, recovered = (
        entry
    )
    return Handling(
        alert_id=alert_id,
        customer_id=customer,
        region=region,
        assignee_id=assignee,
        raised_at=EPOCH + raised * MILLISECOND,
        acknowledge_due_at=EPOCH + ack_due * MILLISECOND,
        resolve_due_at=EPOCH + resolve_due * MILLISECOND,
        acknowledged_at=_at(acked),
        resolved_at=_at(resolved),
        reopened=bool(flags & REOPENED),
        escalated=bool(flags & ESCALATED),
        nps=nps,
        recovery_nps=recovery_nps,
        recovered_at=_at(recovered),
    )


def _packs(documents: Iterable[Document], *, sharded_from: date) -> dict[str, dict[str, list[Any]]]:
    """The entries of these stored alert documents (operational ones), by pack (each alert's shard of it,
    for days from ``sharded_from`` on: ``date.min`` for all, ``date.max`` for none) and entry field."""
    packs: dict[str, dict[str, list[Any]]] = {}
    for document in documents:
        if is_packed(document):
            handling = handling_of(document)
            day = _day(handling.raised_at)
            shard = shard_of(handling.alert_id, SHARDS) if day >= sharded_from else None
            key = _pack_id(day, handling.region, shard)
            packs.setdefault(key, {})[_field(handling.alert_id)] = _entry(handling)
    return packs


async def _current(packs: AsyncIterable[Document]) -> dict[str, tuple[str, list[Any]]]:
    """Each alert's entry (by entry field) with its region, from whole packs and shards in any order: a
    shard's entry is the newer."""
    found: dict[str, tuple[str, list[Any]]] = {}
    from_shards: set[str] = set()
    async for pack in packs:
        in_shard = pack.get("shard") is not None
        for field, entry in pack.get("h", {}).items():
            if in_shard:
                from_shards.add(field)
            elif field in from_shards:
                continue
            found[field] = (pack["region"], entry)
    return found


def _day(at: datetime) -> date:
    """The UTC day of an instant (naive instants, as the driver returns them, are UTC)."""
    return (at if at.tzinfo is None else at.astimezone(UTC)).date()


def _pack_id(day: date | str, region: str, shard: int | None = None) -> str:
    """A whole pack's id, or one of its shards'."""
    key = [day if isinstance(day, str) else day.isoformat(), region]
    return json.dumps(key if shard is None else [*key, shard])


def _field(alert_id: str) -> str:
    """Alert ids are free text; hex keeps ``.`` and ``$`` out of field names."""
    return "a" + alert_id.encode().hex()


def _alert_id(field: str) -> str:
    return bytes.fromhex(field[1:]).decode()


class HandlingRepository:
    """Packs of operational alerts' handling, by UTC day of the raise and region; reads keep to the scope."""

    def __init__(self, db: Database, scope: RowScope | None = None) -> None:
        self._collection = db[COLLECTION]
        self._scope = scope or RowScope.everything()

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        # The shards the sweep folds: sparse, so the whole packs (most of them) cost it nothing.
        return [
            IndexSpec(COLLECTION, (("day", 1),)),
            IndexSpec(COLLECTION, (("shard", 1), ("day", 1)), sparse=True),
        ]

    async def keep(
        self, documents: Iterable[Document], *, session: Session | None = None, new_before: date | None = None
    ) -> None:
        """Set the entries of these stored alert documents (any others are left out), each in its shard, in
        ``session``. With ``new_before``, the documents are of new alerts, and those raised before that day
        go to the whole pack: no shard holds an entry of theirs to be read over it, and the sweep has none
        to fold (a data load's or import's history would otherwise leave shards for every past day)."""
        packs = _packs(documents, sharded_from=new_before or date.min)
        for key in sorted(packs):  # one order, so that concurrent writers meet on the first pack they share
            day, region, *shard = json.loads(key)  # a whole pack's id names no shard
            entries = {f"h.{field}": entry for field, entry in packs[key].items()}
            created = {"day": day, "region": region, **({"shard": shard[0]} if shard else {})}
            await self._collection.update_one(
                {"_id": key},
                {"$set": entries, "$setOnInsert": created},
                upsert=True,
                session=session,
            )

    async def sharded_before(self, day: date, *, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` days (before ``day``) and regions whose pack has shards: what the sweep folds."""
        query = {"shard": {"$gte": 0}, "day": {"$lt": day.isoformat()}}
        found = self._collection.find(query, {"day": 1, "region": 1}).limit(limit * SHARDS)
        return sorted({(d["day"], d["region"]) async for d in found})[:limit]

    async def fold(self, day: str, region: str, *, session: Session) -> int:
        """Move the entries of a day's and region's shards into its whole pack and delete the shards, in
        ``session``'s transaction (give one: an alert's entry set meanwhile conflicts with it, and one of
        them is retried); the shards folded."""
        query = {"day": day, "region": region, "shard": {"$gte": 0}}
        shards = await self._collection.find(query, session=session).to_list()
        if not shards:
            return 0
        entries = {f"h.{field}": entry for shard in shards for field, entry in shard.get("h", {}).items()}
        await self._collection.update_one(
            {"_id": _pack_id(day, region)},
            {"$set": entries, "$setOnInsert": {"day": day, "region": region}},
            upsert=True,
            session=session,
        )
        await self._collection.delete_many({"_id": {"$in": [s["_id"] for s in shards]}}, session=session)
        return len(shards)

    async def replace_all(self, documents: AsyncIterable[Document], *, batch: int = 200) -> int:
        """Drop every pack and store those of these stored alert documents instead; the entries written.

        Alerts written while it runs may be missed: run it while nothing changes alerts, then ``verify``.
        """
        read: list[Document] = [d async for d in documents]
        packs = _packs(read, sharded_from=date.max)
        await self._collection.delete_many({})
        whole = []
        for key, entries in packs.items():
            day, region = json.loads(key)
            whole.append({"_id": key, "day": day, "region": region, "h": entries})
        for start in range(0, len(whole), batch):
            await self._collection.insert_many(whole[start : start + batch], ordered=False)
        return sum(len(entries) for entries in packs.values())

    async def handled_between(
        self, start: datetime, end: datetime, *, regions: Sequence[str], assignee_id: str | None = None
    ) -> list[Handling]:
        """The handling of the operational alerts in scope raised from ``start`` up to ``end``, of these
        regions if given (and of one assignee when named)."""
        scope = self._scope
        if scope.nothing:
            return []
        last = _day(end - timedelta(microseconds=1))
        query: dict[str, Any] = {"day": {"$gte": _day(start).isoformat(), "$lte": last.isoformat()}}
        wanted = set(regions)
        if scope.regions is not None and scope.employee_id is None:
            wanted = wanted & set(scope.regions) if wanted else set(scope.regions)
            if not wanted:
                return []
        if wanted:
            query["region"] = {"$in": sorted(wanted)}
        found = []
        first, past = _ms(start), _ms(end)
        # Filtered once each alert's newest entry is known: an older one may hold another assignee.
        for field, (region, entry) in (await _current(self._collection.find(query))).items():
            if not first <= entry[2] < past or assignee_id not in (None, entry[1]):
                continue
            handling = _from_entry(_alert_id(field), region, entry)
            if scope.admits(
                region=handling.region, customer_id=handling.customer_id, assignee_id=handling.assignee_id
            ):
                found.append(handling)
        return found

    async def everything(self) -> AsyncIterator[Handling]:
        """Every kept entry, the newest of each alert (for verifying them)."""
        for field, (region, entry) in (await _current(self._collection.find({}))).items():
            yield _from_entry(_alert_id(field), region, entry)

    async def drop_all(self) -> None:
        await self._collection.delete_many({})


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
