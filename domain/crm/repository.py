"""Persistence of transactions, interactions, cases and opportunities: one mapper per collection."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from domain.crm.models import (
    Case,
    CaseChannel,
    CaseKind,
    CaseStatus,
    CustomerNotice,
    Direction,
    Interaction,
    InteractionKind,
    LineItem,
    Opportunity,
    OpportunityStage,
    SalesChannel,
    Severity,
    StatusChange,
    Transaction,
)
from domain.customer_records import COUNT_STAGES, CustomerRecords
from domain.customers.models import ExternalId
from domain.customers.repository import LOOKUP_CHUNK, external_key
from domain.documents import date_doc, date_from, money_doc, money_from
from domain.imports.rows import Upserted
from domain.money import Money
from domain.root_cause import (
    Caused,
    CauseSource,
    cause_counts,
    cause_document,
    cause_from,
    causes_recorded,
    rename_cause,
)
from domain.scope import any_of
from domain.store import Document, IndexSpec

OPEN_CASE_STATUSES = [s.value for s in CaseStatus if s.is_open]
# How many cases are open or in progress, as stages over a customer's cases (read with ``counted``).
OPEN_COUNT_STAGES: tuple[Document, ...] = (
    {"$match": {"status": {"$in": OPEN_CASE_STATUSES}}},
    *COUNT_STAGES,
)
CLOSED_STAGES = [OpportunityStage.WON.value, OpportunityStage.LOST.value]


@dataclass(frozen=True, slots=True)
class Purchase:
    """When a customer bought (or was refunded, a negative amount) and how much, read without the lines."""

    at: datetime
    amount: Money


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """When a customer's latest case was opened, and how many of its complaints are still open."""

    latest: datetime
    open_complaints: int


Imported = TypeVar("Imported", Transaction, Interaction)


def external_fields(external_id: ExternalId | None) -> Document:
    """The stored external id: absent, not null, when there is none, so the sparse unique index skips it."""
    if external_id is None:
        return {}
    return {
        "externalId": {"system": external_id.system, "id": external_id.id},
        "externalKey": external_key(external_id),
    }


def external_id_from(document: Document) -> ExternalId | None:
    stored = document.get("externalId")
    return ExternalId(stored["system"], stored["id"]) if stored else None


class ImportedRecords(CustomerRecords[Imported]):
    """Records that can come from another system, known there by an external id unique per system."""

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        unique = IndexSpec(cls.collection_name, (("externalKey", 1),), unique=True, sparse=True)
        return [*super().indexes(), unique]

    async def by_external_keys(self, external_ids: Iterable[ExternalId]) -> dict[ExternalId, Imported]:
        """The records in scope known by these external ids, one command per ``LOOKUP_CHUNK`` ids."""
        wanted = {external_key(e): e for e in external_ids}
        keys = list(wanted)
        found: dict[ExternalId, Imported] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            query = self._in_scope({"externalKey": {"$in": keys[start : start + LOOKUP_CHUNK]}})
            async for document in self._collection.find(query):
                found[wanted[document["externalKey"]]] = self.from_document(document)
        return found

    async def upsert_by_external_id(self, records: Sequence[Imported]) -> Upserted:
        """Creates the records no one knows by their external id and replaces the changed ones (same id)."""
        keyed = [(r.external_id, r) for r in records if r.external_id is not None]
        existing = await self.by_external_keys(e for e, _ in keyed)
        created: list[Imported] = []
        updated = unchanged = 0
        for external_id, record in keyed:
            old = existing.get(external_id)
            if old is None:
                created.append(record)
                continue
            merged: Any = replace(record, id=old.id)
            if merged == old:
                unchanged += 1
                continue
            await self._collection.replace_one({"_id": old.id}, self.to_document(merged))
            updated += 1
        await self.insert_many(created)
        return Upserted(created=len(created), updated=updated, unchanged=unchanged)


class TransactionRepository(ImportedRecords[Transaction]):
    """Purchases and refunds."""

    collection_name = "transactions"

    async def purchases(self, customer_ids: Sequence[str]) -> dict[str, list[Purchase]]:
        """Every purchase and refund of each customer, oldest first, in one command (no line items)."""
        query = self._in_scope({"customerId": {"$in": list(customer_ids)}})
        fields = {"customerId": 1, "occurredAt": 1, "amount": 1}
        found: dict[str, list[Purchase]] = {c: [] for c in customer_ids}
        async for d in self._collection.find(query, fields):
            found[d["customerId"]].append(Purchase(d["occurredAt"], money_from(d["amount"])))
        for purchases in found.values():
            purchases.sort(key=lambda p: p.at)
        return found

    @staticmethod
    def to_document(record: Transaction) -> Document:
        return {
            "_id": record.id,
            "customerId": record.customer_id,
            "region": record.region,
            "amount": money_doc(record.amount),
            "items": [
                {"sku": i.sku, "name": i.name, "quantity": i.quantity, "unitPrice": money_doc(i.unit_price)}
                for i in record.items
            ],
            "channel": record.channel.value,
            "touchpoint": record.touchpoint,
            "occurredAt": record.occurred_at,
            **external_fields(record.external_id),
        }

    @staticmethod
    def from_document(document: Document) -> Transaction:
        return Transaction(
            id=document["_id"],
            customer_id=document["customerId"],
            region=document["region"],
            amount=money_from(document["amount"]),
            items=tuple(
                LineItem(i["sku"], i["name"], int(i["quantity"]), money_from(i["unitPrice"]))
                for i in document.get("items", ())
            ),
            channel=SalesChannel(document["channel"]),
            touchpoint=document["touchpoint"],
            occurred_at=document["occurredAt"],
            external_id=external_id_from(document),
        )


class InteractionRepository(ImportedRecords[Interaction]):
    """Logged calls, e-mails, meetings, chats, visits and social contacts."""

    collection_name = "interactions"
    extra_indexes = ((("employeeId", 1), ("occurredAt", -1)),)

    @staticmethod
    def to_document(record: Interaction) -> Document:
        return {
            "_id": record.id,
            "customerId": record.customer_id,
            "region": record.region,
            "kind": record.kind.value,
            "direction": record.direction.value,
            "channel": record.channel,
            "employeeId": record.employee_id,
            "summary": record.summary,
            "occurredAt": record.occurred_at,
            "nextStep": record.next_step,
            "followUpOn": date_doc(record.follow_up_on),
            **external_fields(record.external_id),
        }

    @staticmethod
    def from_document(document: Document) -> Interaction:
        return Interaction(
            id=document["_id"],
            customer_id=document["customerId"],
            region=document["region"],
            kind=InteractionKind(document["kind"]),
            direction=Direction(document["direction"]),
            channel=document["channel"],
            employee_id=document.get("employeeId"),
            summary=document["summary"],
            occurred_at=document["occurredAt"],
            next_step=document.get("nextStep"),
            follow_up_on=date_from(document.get("followUpOn")),
            external_id=external_id_from(document),
        )


class CaseRepository(CustomerRecords[Case]):
    """Service requests, questions and complaints; ``occurredAt`` is when the case was opened."""

    collection_name = "cases"
    extra_indexes = (
        (("region", 1), ("status", 1), ("dueAt", 1)),
        (("assigneeId", 1), ("status", 1), ("dueAt", 1)),
        (("kind", 1), ("occurredAt", 1)),
        (("rootCause.at", 1),),
    )

    async def complaints(
        self, start: datetime, end: datetime, *, regions: Sequence[str], channels: Sequence[str]
    ) -> list[Case]:
        """Complaint cases in scope opened from ``start`` to ``end``, of these regions and channels."""
        pipeline = [
            # The indexed fields alone first, so every database selects by the index.
            {"$match": {"kind": CaseKind.COMPLAINT.value, "occurredAt": {"$gte": start, "$lt": end}}},
            {"$match": self._in_scope(any_of(region=regions, channel=channels))},
        ]
        return [self.from_document(d) async for d in await self._collection.aggregate(pipeline)]

    @staticmethod
    def to_document(record: Case) -> Document:
        notice = record.customer_notified
        return {
            "_id": record.id,
            "customerId": record.customer_id,
            "region": record.region,
            "kind": record.kind.value,
            "channel": record.channel.value,
            "category": record.category,
            "severity": record.severity.value,
            "status": record.status.value,
            "subject": record.subject,
            "assigneeId": record.assignee_id,
            "occurredAt": record.opened_at,
            "dueAt": record.due_at,
            "history": [
                {"status": h.status.value, "at": h.at, "by": h.by, "note": h.note} for h in record.history
            ],
            "resolution": record.resolution,
            "rootCause": cause_document(record.root_cause),
            "customerNotified": {"at": notice.at, "channel": notice.channel} if notice else None,
            "version": record.version,
        }

    @staticmethod
    def from_document(document: Document) -> Case:
        notice = document.get("customerNotified")
        return Case(
            id=document["_id"],
            customer_id=document["customerId"],
            region=document["region"],
            kind=CaseKind(document["kind"]),
            channel=CaseChannel(document["channel"]),
            category=document["category"],
            severity=Severity(document["severity"]),
            status=CaseStatus(document["status"]),
            subject=document.get("subject", ""),
            assignee_id=document.get("assigneeId"),
            opened_at=document["occurredAt"],
            due_at=document.get("dueAt"),
            history=tuple(
                StatusChange(CaseStatus(h["status"]), h["at"], h.get("by"), h.get("note"))
                for h in document.get("history", ())
            ),
            resolution=document.get("resolution"),
            customer_notified=CustomerNotice(notice["at"], notice["channel"]) if notice else None,
            version=int(document.get("version", 1)),
            root_cause=cause_from(document.get("rootCause")),
        )

    async def open_counts(self, customer_ids: Sequence[str]) -> dict[str, int]:
        """How many open or in-progress cases each customer has, in one command."""
        open_cases = self._in_scope({"status": {"$in": OPEN_CASE_STATUSES}})
        return await self._count_by("customerId", customer_ids, open_cases)

    async def caused_between(self, start: datetime, end: datetime, *, regions: Sequence[str]) -> list[Caused]:
        """The root causes recorded on complaints in scope from ``start`` up to ``end``."""
        recorded = {"rootCause.at": {"$gte": start, "$lt": end}}
        return await causes_recorded(
            self._collection, CauseSource.COMPLAINT, [recorded, self._in_scope(any_of(region=regions))]
        )

    async def cause_counts(self) -> dict[str, int]:
        """How many cases in scope carry each root cause, in one command (a scan: for audits)."""
        return await cause_counts(self._collection, self._in_scope({"rootCause": {"$ne": None}}))

    async def rename_cause(self, old: str, new: str) -> int:
        """Give every case in scope with root cause ``old`` the cause ``new`` (a new version); how many."""
        return await rename_cause(self._collection, self._in_scope({"rootCause.code": old}), new)

    async def category_counts(self) -> dict[str, int]:
        """How many cases in scope carry each category, in one command (a scan: for audits, not requests)."""
        pipeline = [{"$match": self._in_scope({})}, {"$group": {"_id": "$category", "n": {"$sum": 1}}}]
        return {row["_id"]: int(row["n"]) async for row in await self._collection.aggregate(pipeline)}

    async def recategorize(self, old: str, new: str) -> int:
        """Give every case in scope of category ``old`` the category ``new`` (a new version); how many."""
        result = await self._collection.update_many(
            self._in_scope({"category": old}), {"$set": {"category": new}, "$inc": {"version": 1}}
        )
        return result.matched_count

    async def summaries(self, customer_ids: Sequence[str]) -> dict[str, CaseSummary]:
        """Each customer's latest case and open complaints (customers without cases are absent)."""
        open_complaint = {
            "$and": [
                {"$eq": ["$kind", CaseKind.COMPLAINT.value]},
                {"$in": ["$status", OPEN_CASE_STATUSES]},
            ]
        }
        pipeline = [
            {"$match": self._in_scope({"customerId": {"$in": list(customer_ids)}})},
            {
                "$group": {
                    "_id": "$customerId",
                    "latest": {"$max": "$occurredAt"},
                    "open": {"$sum": {"$cond": [open_complaint, 1, 0]}},
                }
            },
        ]
        return {
            row["_id"]: CaseSummary(row["latest"], int(row["open"]))
            async for row in await self._collection.aggregate(pipeline)
        }


class OpportunityRepository(CustomerRecords[Opportunity]):
    """Possible sales; ``occurredAt`` is when the opportunity was opened."""

    collection_name = "opportunities"
    extra_indexes = ((("ownerId", 1), ("stage", 1)),)

    async def by_customer(self, customer_ids: Sequence[str]) -> dict[str, list[Opportunity]]:
        """Every opportunity of each customer, newest first, in one command."""
        query = self._in_scope({"customerId": {"$in": list(customer_ids)}})
        found: dict[str, list[Opportunity]] = {c: [] for c in customer_ids}
        async for document in self._collection.find(query):
            found[document["customerId"]].append(self.from_document(document))
        for opportunities in found.values():
            opportunities.sort(key=lambda o: (o.opened_at, o.id), reverse=True)
        return found

    @staticmethod
    def to_document(record: Opportunity) -> Document:
        return {
            "_id": record.id,
            "customerId": record.customer_id,
            "region": record.region,
            "title": record.title,
            "stage": record.stage.value,
            "amount": money_doc(record.amount),
            "probability": record.probability,
            "expectedCloseOn": date_doc(record.expected_close_on),
            "ownerId": record.owner_id,
            "occurredAt": record.opened_at,
        }

    @staticmethod
    def from_document(document: Document) -> Opportunity:
        return Opportunity(
            id=document["_id"],
            customer_id=document["customerId"],
            region=document["region"],
            title=document["title"],
            stage=OpportunityStage(document["stage"]),
            amount=money_from(document["amount"]),
            probability=int(document["probability"]),
            expected_close_on=date_from(document.get("expectedCloseOn")),
            owner_id=document.get("ownerId"),
            opened_at=document["occurredAt"],
        )
