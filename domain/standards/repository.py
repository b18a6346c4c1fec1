"""Persistence of service standards: the one in force per region and touchpoint, and every version of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.feedback.models import Touchpoint
from domain.standards.models import (
    COMPANY,
    AlertRule,
    ServiceStandard,
    StandardChange,
    WindowTargets,
    default_standard,
)
from domain.store import Database, Document, IndexSpec, Session

VERSIONS = "serviceStandardVersions"


def _key(region: str, touchpoint: Touchpoint) -> str:
    return f"{region}|{touchpoint.value}"


def _window_document(window: WindowTargets | None) -> Document | None:
    if window is None:
        return None
    return {
        "windowDays": window.window_days,
        "minResponses": window.min_responses,
        "npsAtLeast": window.nps_at_least,
        "csatBottomBoxShareAtMost": window.csat_bottom_box_share_at_most,
        "satisfactionIndexAtLeast": window.satisfaction_index_at_least,
    }


def _window(document: Document | None) -> WindowTargets | None:
    if not document:
        return None

    def number(name: str) -> float | None:
        value = document.get(name)
        return None if value is None else float(value)

    return WindowTargets(
        window_days=int(document["windowDays"]),
        min_responses=int(document["minResponses"]),
        nps_at_least=number("npsAtLeast"),
        csat_bottom_box_share_at_most=number("csatBottomBoxShareAtMost"),
        satisfaction_index_at_least=number("satisfactionIndexAtLeast"),
    )


class StandardRepository:
    """Service standards, found by region and touchpoint with the company standard and default behind.

    ``serviceStandards`` holds the version in force of each region's (and the company's) standard;
    ``serviceStandardVersions`` every version ever set, so a past moment is judged by the standard then.
    """

    collection_name = "serviceStandards"

    def __init__(self, db: Database) -> None:
        self._collection = db[self.collection_name]
        self._versions = db[VERSIONS]

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return [
            IndexSpec(cls.collection_name, (("region", 1),)),
            IndexSpec(VERSIONS, (("key", 1), ("effectiveFrom", -1))),
        ]

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
            "window": _window_document(standard.window),
            "updatedBy": standard.updated_by,
            "updatedAt": standard.updated_at,
            "version": standard.version,
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
            window=_window(document.get("window")),
            # Stored before standards had versions: the one version there is.
            version=int(document.get("version", 1)),
        )

    async def for_touchpoint(self, region: str, touchpoint: Touchpoint) -> ServiceStandard:
        """The region's standard, else the company's, else the default."""
        keys = [_key(region, touchpoint), _key(COMPANY, touchpoint)]
        found = {d["_id"]: d async for d in self._collection.find({"_id": {"$in": keys}})}
        for key in keys:
            if key in found:
                return _as_region(self.from_document(found[key]), region)
        return default_standard(region, touchpoint)

    async def for_region(self, region: str) -> list[ServiceStandard]:
        """The standard of every touchpoint as it applies in ``region``."""
        return [await self.for_touchpoint(region, touchpoint) for touchpoint in Touchpoint]

    async def own(
        self, region: str, touchpoint: Touchpoint, *, session: Session | None = None
    ) -> ServiceStandard | None:
        """The region's own standard in force (the company's for ``COMPANY``), or None when never set."""
        document = await self._collection.find_one({"_id": _key(region, touchpoint)}, session=session)
        return self.from_document(document) if document else None

    async def stored(self) -> list[ServiceStandard]:
        """Every standard set, region and company ones, as in force now."""
        return [self.from_document(d) async for d in self._collection.find({})]

    async def in_force_at(self, region: str, touchpoint: Touchpoint, at: datetime) -> ServiceStandard:
        """The standard in force in ``region`` at ``at``: the region's version then, else the company's."""
        for key in (_key(region, touchpoint), _key(COMPANY, touchpoint)):
            found = await self._version_at(key, at)
            if found is not None:
                return _as_region(found, region)
        return default_standard(region, touchpoint)

    async def history(self, region: str, touchpoint: Touchpoint) -> list[ServiceStandard]:
        """Every version of the region's and the company's standard, oldest first (see ``in_force``)."""
        keys = [_key(region, touchpoint), _key(COMPANY, touchpoint)]
        versions = [
            self.from_document(d["standard"])
            async for d in self._versions.find({"key": {"$in": keys}}).sort([("effectiveFrom", 1)])
        ]
        legacy = [
            self.from_document(d)
            async for d in self._collection.find({"_id": {"$in": keys}, "version": {"$exists": False}})
        ]
        return sorted([*versions, *legacy], key=_when)

    async def changes(self, region: str, touchpoint: Touchpoint, *, first: int) -> list[StandardChange]:
        """The region's own changes, newest first, each with the version it replaced."""
        cursor = (
            self._versions.find({"key": _key(region, touchpoint)})
            .sort([("effectiveFrom", -1), ("version", -1)])
            .limit(first + 1)
        )
        found = [self.from_document(d["standard"]) async for d in cursor]
        if not found:
            legacy = await self.own(region, touchpoint)
            found = [legacy] if legacy is not None and legacy.updated_at is not None else []
        return [
            StandardChange(
                version=after.version,
                at=after.updated_at or datetime.min.replace(tzinfo=UTC),
                by=after.updated_by,
                before=found[n + 1] if n + 1 < len(found) else None,
                after=after,
            )
            for n, after in enumerate(found[:first])
        ]

    async def save(
        self, standard: ServiceStandard, *, read_version: int, session: Session | None = None
    ) -> bool:
        """Store ``standard`` as the new version of its region's standard, read at ``read_version`` (0: never
        set); False when it changed since. Inside ``session``'s transaction: both writes, or neither."""
        document = self.to_document(standard)
        if read_version == 0:
            await self._collection.insert_one(document, session=session)
        else:
            current: dict[str, Any] = {"_id": document["_id"]}
            # A standard stored before versions has no version field: it is version 1.
            current["$or"] = [
                {"version": read_version},
                *([{"version": {"$exists": False}}] if read_version == 1 else []),
            ]
            result = await self._collection.replace_one(current, document, session=session)
            if result.matched_count == 0:
                return False
        await self._versions.insert_one(
            {
                "_id": f"{document['_id']}|{standard.version}",
                "key": document["_id"],
                "version": standard.version,
                "effectiveFrom": standard.updated_at,
                "standard": document,
            },
            session=session,
        )
        return True

    async def _version_at(self, key: str, at: datetime) -> ServiceStandard | None:
        cursor = (
            self._versions.find({"key": key, "effectiveFrom": {"$lte": at}})
            .sort([("effectiveFrom", -1)])
            .limit(1)
        )
        async for document in cursor:
            return self.from_document(document["standard"])
        legacy = await self._collection.find_one({"_id": key, "version": {"$exists": False}})
        if legacy is not None and legacy.get("updatedAt") is not None and legacy["updatedAt"] <= at:
            return self.from_document(legacy)
        return None


def _as_region(standard: ServiceStandard, region: str) -> ServiceStandard:
    """A standard as it applies in ``region``: the company's carries no version of the region's own."""
    return standard if standard.region == region else replace(standard, region=region, version=0)


def in_force(
    versions: Sequence[ServiceStandard], region: str, touchpoint: Touchpoint, at: datetime
) -> ServiceStandard:
    """Of ``versions`` (from ``history``), the one in force in ``region`` at ``at``: the region's, else the
    company's, else the default."""
    for owner in (region, COMPANY):
        applying = [
            v for v in versions if v.region == owner and v.updated_at is not None and v.updated_at <= at
        ]
        if applying:
            return _as_region(max(applying, key=_when), region)
    return default_standard(region, touchpoint)


def _when(standard: ServiceStandard) -> tuple[datetime, int]:
    return (standard.updated_at or datetime.min.replace(tzinfo=UTC), standard.version)
