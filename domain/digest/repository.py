"""Persistence of published digests: one per region and day, stored once however many processes publish."""

from __future__ import annotations

from datetime import date

from domain.digest.models import Digest, DigestBreach, ResolvedCause, RisingCause
from domain.standards.models import TargetMetric
from domain.store import Database, Document, IndexSpec, Session

COLLECTION = "digests"


def digest_id(region: str, day: date) -> str:
    return f"{region}|{day.isoformat()}"


class DigestRepository:
    """Published digests (each for one region); inserting one twice breaks the unique ``_id``."""

    collection_name = COLLECTION

    def __init__(self, db: Database) -> None:
        self._collection = db[COLLECTION]

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return []  # read by _id only

    @staticmethod
    def to_document(digest: Digest) -> Document:
        (region,) = digest.regions
        return {
            "_id": digest_id(region, digest.day),
            "day": digest.day.isoformat(),
            "regions": list(digest.regions),
            "newAlerts": list(digest.new_alerts),
            "breaches": [
                {
                    "alertId": b.alert_id,
                    "region": b.region,
                    "touchpoint": b.touchpoint,
                    "metric": b.metric.value,
                    "figure": b.figure,
                    "target": b.target,
                    "windowDays": b.window_days,
                    "raisedAt": b.raised_at,
                    "clearedAt": b.cleared_at,
                }
                for b in digest.breaches
            ],
            "resolved": [
                {"cause": r.cause, "category": r.category, "resolved": r.resolved, "notes": list(r.notes)}
                for r in digest.resolved
            ],
            "rising": [
                {
                    "cause": r.cause,
                    "category": r.category,
                    "count": r.count,
                    "baselineCount": r.baseline_count,
                    "expected": r.expected,
                    "pValue": r.p_value,
                }
                for r in digest.rising
            ],
        }

    @staticmethod
    def from_document(document: Document) -> Digest:
        return Digest(
            day=date.fromisoformat(document["day"]),
            regions=tuple(document["regions"]),
            new_alerts=tuple(document.get("newAlerts", ())),
            breaches=tuple(
                DigestBreach(
                    alert_id=b["alertId"],
                    region=b["region"],
                    touchpoint=b["touchpoint"],
                    metric=TargetMetric(b["metric"]),
                    figure=float(b["figure"]),
                    target=float(b["target"]),
                    window_days=int(b["windowDays"]),
                    raised_at=b["raisedAt"],
                    cleared_at=b.get("clearedAt"),
                )
                for b in document.get("breaches", ())
            ),
            resolved=tuple(
                ResolvedCause(
                    r.get("cause"), r.get("category"), int(r["resolved"]), tuple(r.get("notes", ()))
                )
                for r in document.get("resolved", ())
            ),
            rising=tuple(
                RisingCause(
                    r["cause"],
                    r["category"],
                    int(r["count"]),
                    int(r["baselineCount"]),
                    float(r["expected"]),
                    float(r["pValue"]),
                )
                for r in document.get("rising", ())
            ),
        )

    async def exists(self, region: str, day: date) -> bool:
        return await self._collection.find_one({"_id": digest_id(region, day)}, {"_id": 1}) is not None

    async def insert(self, digest: Digest, *, session: Session) -> None:
        """Store a region's digest; another process's of the same region and day breaks the unique ``_id``."""
        await self._collection.insert_one(self.to_document(digest), session=session)
