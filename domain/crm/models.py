"""Transactions, interactions, cases and opportunities: what happened between a customer and the company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.customers.models import ExternalId
from domain.money import Money
from domain.root_cause import RootCause


class SalesChannel(StrEnum):
    """Where a purchase was made."""

    STORE = "STORE"
    ONLINE = "ONLINE"
    APP = "APP"
    PHONE = "PHONE"


@dataclass(frozen=True, slots=True)
class LineItem:
    """One product line of a transaction."""

    sku: str
    name: str
    quantity: int
    unit_price: Money


@dataclass(frozen=True, slots=True)
class Transaction:
    """A purchase (or refund, with a negative amount)."""

    id: str
    customer_id: str
    region: str
    amount: Money
    items: tuple[LineItem, ...]
    channel: SalesChannel
    touchpoint: str
    occurred_at: datetime
    # The record's id in the system it was imported from (unique per system), if it was imported.
    external_id: ExternalId | None = None


class InteractionKind(StrEnum):
    """How staff and customer were in touch."""

    CALL = "CALL"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    CHAT = "CHAT"
    VISIT = "VISIT"
    SOCIAL = "SOCIAL"


class Direction(StrEnum):
    """Who started the contact."""

    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


@dataclass(frozen=True, slots=True)
class Interaction:
    """A logged contact between an employee and the customer."""

    id: str
    customer_id: str
    region: str
    kind: InteractionKind
    direction: Direction
    channel: str
    employee_id: str | None
    summary: str
    occurred_at: datetime
    next_step: str | None
    follow_up_on: date | None
    # The record's id in the system it was imported from (unique per system), if it was imported.
    external_id: ExternalId | None = None


class CaseKind(StrEnum):
    """What the customer came with."""

    COMPLAINT = "COMPLAINT"
    REQUEST = "REQUEST"
    QUESTION = "QUESTION"


class CaseChannel(StrEnum):
    """Where a case was raised."""

    IN_PERSON = "IN_PERSON"
    PHONE = "PHONE"
    MAIL = "MAIL"
    EMAIL = "EMAIL"
    WEB = "WEB"
    SOCIAL = "SOCIAL"
    APP = "APP"


class Severity(StrEnum):
    """How much a case hurts the customer."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class CaseStatus(StrEnum):
    """Where a case is in its handling."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"

    @property
    def is_open(self) -> bool:
        return self in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One step of a case's history."""

    status: CaseStatus
    at: datetime
    by: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class CustomerNotice:
    """How and when the customer was told about the outcome."""

    at: datetime
    channel: str


@dataclass(frozen=True, slots=True)
class Case:
    """A service request, question or complaint."""

    id: str
    customer_id: str
    region: str
    kind: CaseKind
    channel: CaseChannel
    category: str
    severity: Severity
    status: CaseStatus
    subject: str
    assignee_id: str | None
    opened_at: datetime
    due_at: datetime | None
    history: tuple[StatusChange, ...]
    resolution: str | None
    customer_notified: CustomerNotice | None
    version: int
    root_cause: RootCause | None = None  # a complaint's, recorded when it is resolved (or closed)


class OpportunityStage(StrEnum):
    """Sales pipeline stage."""

    PROSPECTING = "PROSPECTING"
    QUALIFICATION = "QUALIFICATION"
    PROPOSAL = "PROPOSAL"
    NEGOTIATION = "NEGOTIATION"
    WON = "WON"
    LOST = "LOST"


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A possible sale to the customer."""

    id: str
    customer_id: str
    region: str
    title: str
    stage: OpportunityStage
    amount: Money
    probability: int
    expected_close_on: date | None
    owner_id: str | None
    opened_at: datetime
