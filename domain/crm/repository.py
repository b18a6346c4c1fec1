"""Persistence of transactions, interactions, cases and opportunities: one mapper per collection."""

from __future__ import annotations

from collections.abc import Sequence

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
from domain.documents import date_doc, date_from, money_doc, money_from
from domain.records import CustomerRecords
from domain.store import Document

OPEN_CASE_STATUSES = [s.value for s in CaseStatus if s.is_open]


class TransactionRepository(CustomerRecords[Transaction]):
    """Purchases and refunds."""

    collection_name = "transactions"

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
        )


class InteractionRepository(CustomerRecords[Interaction]):
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
        )


class CaseRepository(CustomerRecords[Case]):
    """Service requests, questions and complaints; ``occurredAt`` is when the case was opened."""

    collection_name = "cases"
    extra_indexes = (
        (("region", 1), ("status", 1), ("dueAt", 1)),
        (("assigneeId", 1), ("status", 1), ("dueAt", 1)),
    )

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
        )

    async def open_counts(self, customer_ids: Sequence[str]) -> dict[str, int]:
        """How many open or in-progress cases each customer has, in one command."""
        pipeline = [
            {"$match": self._in_scope({"customerId": {"$in": list(customer_ids)}})},
            {"$match": {"status": {"$in": OPEN_CASE_STATUSES}}},
            {"$group": {"_id": "$customerId", "n": {"$sum": 1}}},
        ]
        found = {row["_id"]: int(row["n"]) async for row in await self._collection.aggregate(pipeline)}
        return {c: found.get(c, 0) for c in customer_ids}


class OpportunityRepository(CustomerRecords[Opportunity]):
    """Possible sales; ``occurredAt`` is when the opportunity was opened."""

    collection_name = "opportunities"
    extra_indexes = ((("ownerId", 1), ("stage", 1)),)

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
