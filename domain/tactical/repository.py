"""Persistence of breach watches: one document per region, touchpoint and metric, open while a breach lasts.

Opening a watch is the conditional write that makes a breach raise its tactical alert exactly once, however
many processes check at the same moment; closing it is the one that clears the alert exactly once.
"""

from __future__ import annotations

from datetime import datetime

from domain.standards.models import TargetMetric
from domain.store import Database, Document, IndexSpec, Session
from domain.tactical.models import BreachKey, BreachWatch

COLLECTION = "tacticalBreaches"


class BreachRepository:
    """Breach watches (company-wide bookkeeping of the checks, read by no caller)."""

    def __init__(self, db: Database) -> None:
        self._collection = db[COLLECTION]

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return [IndexSpec(COLLECTION, (("active", 1),))]

    @staticmethod
    def _watch(document: Document) -> BreachWatch:
        key = BreachKey(document["region"], document["touchpoint"], TargetMetric(document["metric"]))
        return BreachWatch(key, document["alertId"], document["since"], document.get("recoveringSince"))

    async def active(self) -> dict[BreachKey, BreachWatch]:
        """Every open breach, by key."""
        found = [self._watch(d) async for d in self._collection.find({"active": True})]
        return {watch.key: watch for watch in found}

    async def open(self, key: BreachKey, *, alert_id: str, now: datetime, session: Session) -> None:
        """Open the breach of ``key`` with its alert; a breach already open breaks the unique ``_id`` (the
        unit of work raises ``DuplicateKey``), so only one of several concurrent checks opens it."""
        await self._collection.update_one(
            {"_id": key.id, "active": False},
            {
                "$set": {
                    "region": key.region,
                    "touchpoint": key.touchpoint,
                    "metric": key.metric.value,
                    "active": True,
                    "alertId": alert_id,
                    "since": now,
                    "recoveringSince": None,
                },
                "$inc": {"episode": 1},
            },
            upsert=True,
            session=session,
        )

    async def recovering(self, watch: BreachWatch, since: datetime | None) -> None:
        """Note since when the window is back within target (None: it broke again)."""
        await self._collection.update_one(
            {"_id": watch.key.id, "active": True, "alertId": watch.alert_id},
            {"$set": {"recoveringSince": since}},
        )

    async def close(self, watch: BreachWatch, *, now: datetime, session: Session) -> bool:
        """Close the breach unless another check did; True when this call closed it."""
        result = await self._collection.update_one(
            {"_id": watch.key.id, "active": True, "alertId": watch.alert_id},
            {"$set": {"active": False, "closedAt": now}},
            session=session,
        )
        return result.matched_count == 1
