"""Transaction, interaction, case and opportunity types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from operator import itemgetter
from typing import Any

import strawberry

from domain.crm import models as crm
from domain.documents import money_from
from domain.store import Document
from resolvers import references
from resolvers.context import Info
from resolvers.employees.types import Employee
from resolvers.enums import (
    CaseChannel,
    CaseKind,
    CaseStatus,
    Direction,
    InteractionKind,
    OpportunityStage,
    SalesChannel,
    Severity,
)
from resolvers.money import Money
from resolvers.node import encode_global_id
from resolvers.references import CustomerRecord
from resolvers.root_cause import RootCause


@strawberry.type(description="One product line of a transaction.")
class LineItem:
    sku: str = strawberry.field(description="Stock-keeping unit.")
    name: str = strawberry.field(description="Product name.")
    quantity: int = strawberry.field(description="Units bought.")
    unit_price: Money = strawberry.field(description="Price of one unit.")


@strawberry.type(description="A purchase, or a refund with a negative amount.")
class Transaction(CustomerRecord):
    amount: Money = strawberry.field(description="Total amount.")
    items: list[LineItem] = strawberry.field(description="Product lines.")
    channel: SalesChannel = strawberry.field(description="Where the purchase was made.")
    touchpoint: str = strawberry.field(description="Store, site or app the purchase went through.")
    occurred_at: datetime = strawberry.field(description="When the purchase happened.")

    @classmethod
    def of(cls, record: crm.Transaction) -> Transaction:
        return cls(
            record_id=record.id,
            customer_id=record.customer_id,
            amount=Money.of(record.amount),
            items=[
                LineItem(sku=i.sku, name=i.name, quantity=i.quantity, unit_price=Money.of(i.unit_price))
                for i in record.items
            ],
            channel=record.channel,
            touchpoint=record.touchpoint,
            occurred_at=record.occurred_at,
        )


# Each field of a transaction and of its line items read straight from the stored document, as
# ``Transaction.of(TransactionRepository.from_document(document))`` holds it: pages completed from the
# pipeline's documents read them (``resolvers/pipeline/completion.py``).
TRANSACTION_READERS: dict[str, Callable[[Document], Any]] = {
    "id": lambda document: encode_global_id("Transaction", document["_id"]),
    "amount": lambda document: money_from(document["amount"]),
    "items": lambda document: document.get("items", ()),
    "channel": lambda document: crm.SalesChannel(document["channel"]),
    "touchpoint": itemgetter("touchpoint"),
    "occurredAt": itemgetter("occurredAt"),
}
LINE_ITEM_READERS: dict[str, Callable[[Document], Any]] = {
    "sku": itemgetter("sku"),
    "name": itemgetter("name"),
    "quantity": lambda item: int(item["quantity"]),
    "unitPrice": lambda item: money_from(item["unitPrice"]),
}


@strawberry.type(description="A logged contact between an employee and the customer.")
class Interaction(CustomerRecord):
    kind: InteractionKind = strawberry.field(description="Call, e-mail, meeting, chat, visit or social.")
    direction: Direction = strawberry.field(description="Who started the contact.")
    channel: str = strawberry.field(description="Channel or place of the contact.")
    summary: str = strawberry.field(description="What was said or done.")
    occurred_at: datetime = strawberry.field(description="When the contact happened.")
    next_step: str | None = strawberry.field(description="Agreed next step, if any.")
    follow_up_on: date | None = strawberry.field(description="Date of the agreed follow-up, if any.")
    employee_id: strawberry.Private[str | None]

    @strawberry.field(description="The employee who had the contact.")
    async def employee(self, info: Info) -> Employee | None:
        return await references.employee(info, self.employee_id)

    @classmethod
    def of(cls, record: crm.Interaction) -> Interaction:
        return cls(
            record_id=record.id,
            customer_id=record.customer_id,
            kind=record.kind,
            direction=record.direction,
            channel=record.channel,
            summary=record.summary,
            occurred_at=record.occurred_at,
            next_step=record.next_step,
            follow_up_on=record.follow_up_on,
            employee_id=record.employee_id,
        )


@strawberry.type(description="One step of a case's handling.")
class CaseStatusChange:
    status: CaseStatus = strawberry.field(description="Status the case moved to.")
    at: datetime = strawberry.field(description="When it moved.")
    note: str | None = strawberry.field(description="What was noted with the change.")


@strawberry.type(description="How and when the customer was told about the outcome.")
class CustomerNotice:
    at: datetime = strawberry.field(description="When the customer was told.")
    channel: str = strawberry.field(description="How the customer was told.")


@strawberry.type(description="A service request, question or complaint, from any channel.")
class Case(CustomerRecord):
    kind: CaseKind = strawberry.field(description="Complaint, request or question.")
    channel: CaseChannel = strawberry.field(description="Where the case was raised.")
    category: str = strawberry.field(
        description="What the case is about: a CASE_CATEGORY code of managedList, e.g. billing."
    )
    severity: Severity = strawberry.field(description="How much it hurts the customer.")
    status: CaseStatus = strawberry.field(description="Where the case is in its handling.")
    subject: str = strawberry.field(description="One-line subject.")
    opened_at: datetime = strawberry.field(description="When the case was opened.")
    due_at: datetime | None = strawberry.field(description="When it must be resolved by.")
    history: list[CaseStatusChange] = strawberry.field(description="Status changes, oldest first.")
    resolution: str | None = strawberry.field(description="What was done, once resolved.")
    customer_notified: CustomerNotice | None = strawberry.field(
        description="Whether and how the customer was told about the outcome."
    )
    version: int = strawberry.field(description="Pass it back with a change; a stale one is a conflict.")
    root_cause: RootCause | None = strawberry.field(
        description="Why it happened: recorded when a complaint is resolved or closed."
    )
    assignee_id: strawberry.Private[str | None]

    @strawberry.field(description="The employee handling the case.")
    async def assignee(self, info: Info) -> Employee | None:
        return await references.employee(info, self.assignee_id)

    @classmethod
    def of(cls, record: crm.Case) -> Case:
        notice = record.customer_notified
        return cls(
            record_id=record.id,
            customer_id=record.customer_id,
            kind=record.kind,
            channel=record.channel,
            category=record.category,
            severity=record.severity,
            status=record.status,
            subject=record.subject,
            opened_at=record.opened_at,
            due_at=record.due_at,
            history=[CaseStatusChange(status=h.status, at=h.at, note=h.note) for h in record.history],
            resolution=record.resolution,
            customer_notified=CustomerNotice(at=notice.at, channel=notice.channel) if notice else None,
            version=record.version,
            root_cause=RootCause.of(record.root_cause),
            assignee_id=record.assignee_id,
        )


@strawberry.type(description="A possible sale to the customer.")
class Opportunity(CustomerRecord):
    title: str = strawberry.field(description="What is being sold.")
    stage: OpportunityStage = strawberry.field(description="Pipeline stage.")
    amount: Money = strawberry.field(description="Expected amount.")
    probability: int = strawberry.field(description="Chance of winning, in percent.")
    expected_close_on: date | None = strawberry.field(description="Expected closing date.")
    opened_at: datetime = strawberry.field(description="When the opportunity was opened.")
    owner_id: strawberry.Private[str | None]

    @strawberry.field(description="The employee who owns the opportunity.")
    async def owner(self, info: Info) -> Employee | None:
        return await references.employee(info, self.owner_id)

    @classmethod
    def of(cls, record: crm.Opportunity) -> Opportunity:
        return cls(
            record_id=record.id,
            customer_id=record.customer_id,
            title=record.title,
            stage=record.stage,
            amount=Money.of(record.amount),
            probability=record.probability,
            expected_close_on=record.expected_close_on,
            opened_at=record.opened_at,
            owner_id=record.owner_id,
        )
