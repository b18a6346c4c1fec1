"""Persistence of service standards: one per region and touchpoint, plus company-wide ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.feedback.models import Touchpoint
from domain.standards.models import COMPANY, AlertRule, ServiceStandard, default_standard
from domain.store import Database, Document, IndexSpec


def _key(region: str, touchpoint: Touchpoint) -> str:
    return f"{region}|{touchpoint.value}"


class StandardRepository:
    """Service standards, found by region and touchpoint with the company standard and default behind."""

    collection_name = "serviceStandards"

    def __init__(self, db: Database) -> None:
        self._collection = db[self.collection_name]

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return [IndexSpec(cls.collection_name, (("region", 1),))]

    @staticmethod
    def to_document(standard: ServiceStandard) -> Document:
        rule = standard.rule
        return {
            "_id": _key(standard.region, standard.touchpoint),
            "region": standard.region,
            "touchpoint": standard.touchpoint.value,
            "rule": {
                "npsAtMost": rule.nps_at_most,
                "csatAtMost": rule.csat_at_most,
                "satisfactionIndexBelow": rule.satisfaction_index_below,
            },
            "acknowledgeWithinSeconds": int(standard.acknowledge_within.total_seconds()),
            "resolveWithinSeconds": int(standard.resolve_within.total_seconds()),
            "targetCsat": standard.target_csat,
            "targetNps": standard.target_nps,
            "updatedBy": standard.updated_by,
            "updatedAt": standard.updated_at,
        }

    @staticmethod
    def from_document(document: Document) -> ServiceStandard:
        rule = document["rule"]
        return ServiceStandard(
            region=document["region"],
            touchpoint=Touchpoint(document["touchpoint"]),
            rule=AlertRule(
                int(rule["npsAtMost"]), int(rule["csatAtMost"]), float(rule["satisfactionIndexBelow"])
            ),
            acknowledge_within=timedelta(seconds=document["acknowledgeWithinSeconds"]),
            resolve_within=timedelta(seconds=document["resolveWithinSeconds"]),
            target_csat=float(document["targetCsat"]),
            target_nps=int(document["targetNps"]),
            updated_by=document.get("updatedBy"),
            updated_at=document.get("updatedAt"),
        )

    async def for_touchpoint(self, region: str, touchpoint: Touchpoint) -> ServiceStandard:
        """The region's standard, else the company's, else the default."""
        keys = [_key(region, touchpoint), _key(COMPANY, touchpoint)]
        found = {d["_id"]: d async for d in self._collection.find({"_id": {"$in": keys}})}
        for key in keys:
            if key in found:
                standard = self.from_document(found[key])
                return standard if standard.region == region else _as_region(standard, region)
        return default_standard(region, touchpoint)

    async def for_region(self, region: str) -> list[ServiceStandard]:
        """The standard of every touchpoint as it applies in ``region``."""
        return [await self.for_touchpoint(region, touchpoint) for touchpoint in Touchpoint]

    async def save(self, standard: ServiceStandard) -> None:
        await self._collection.replace_one(
            {"_id": _key(standard.region, standard.touchpoint)}, self.to_document(standard), upsert=True
        )


def _as_region(standard: ServiceStandard, region: str) -> ServiceStandard:
    return replace(standard, region=region)
