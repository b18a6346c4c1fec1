"""Builders of domain objects with sensible defaults, for tests that care about one or two fields."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.alerts import rules as alert_rules
from domain.alerts.models import Alert, AlertReason
from domain.crm.models import (
    Case,
    CaseChannel,
    CaseKind,
    CaseStatus,
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
from domain.customers.models import Address, Consent, Customer, CustomerStatus, ExternalId, Segment, Tier
from domain.employees.models import Employee, EmployeeRole
from domain.feedback.models import Feedback, FeedbackChannel, ScoreItem, Touchpoint
from domain.money import Money
from domain.repositories import Repositories
from domain.standards.models import default_standard
from domain.standing.service import refresh
from domain.store import UnitOfWork

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
_serial = itertools.count(1)


def next_id() -> str:
    """A unique, valid record id."""
    return f"{0x6A000000:08x}{next(_serial):016x}"


def customer(**overrides: Any) -> Customer:
    n = next(_serial)
    base = Customer(
        id=next_id(),
        given_name="Jane",
        family_name=f"Doe{n:05d}",
        emails=(f"jane.doe{n}@example.com",),
        phones=("+44 20 7946 0123",),
        address=Address("1 High Street", "London", "EC1A 1AA", "GB"),
        birth_date=datetime(1985, 4, 2).date(),
        external_ids=(ExternalId("crm", f"CRM-{n:06d}"),),
        segment=Segment.MASS,
        tier=Tier.SILVER,
        region="north",
        owner_id=None,
        status=CustomerStatus.ACTIVE,
        lifetime_value=Money(123_45, "EUR"),
        consent=Consent(email=True),
        tags=(),
        created_at=NOW - timedelta(days=400),
        updated_at=NOW - timedelta(days=3),
        version=1,
    )
    return replace(base, **overrides)


def employee(**overrides: Any) -> Employee:
    n = next(_serial)
    base = Employee(
        id=next_id(),
        name=f"Agent {n}",
        email=f"agent{n}@example.com",
        role=EmployeeRole.FRONTLINE,
        regions=("north",),
        team="north-1",
        manager_id=None,
    )
    return replace(base, **overrides)


def transaction(of: Customer, **overrides: Any) -> Transaction:
    base = Transaction(
        id=next_id(),
        customer_id=of.id,
        region=of.region,
        amount=Money(49_90, "EUR"),
        items=(LineItem("SKU-1", "Kettle", 1, Money(49_90, "EUR")),),
        channel=SalesChannel.STORE,
        touchpoint="store-london-1",
        occurred_at=NOW - timedelta(days=10),
    )
    return replace(base, **overrides)


def interaction(of: Customer, **overrides: Any) -> Interaction:
    base = Interaction(
        id=next_id(),
        customer_id=of.id,
        region=of.region,
        kind=InteractionKind.CALL,
        direction=Direction.INBOUND,
        channel="phone",
        employee_id=None,
        summary="Asked about delivery times.",
        occurred_at=NOW - timedelta(days=5),
        next_step=None,
        follow_up_on=None,
    )
    return replace(base, **overrides)


def case(of: Customer, **overrides: Any) -> Case:
    opened = overrides.get("opened_at", NOW - timedelta(days=4))
    base = Case(
        id=next_id(),
        customer_id=of.id,
        region=of.region,
        kind=CaseKind.COMPLAINT,
        channel=CaseChannel.EMAIL,
        category="delivery",
        severity=Severity.HIGH,
        status=CaseStatus.OPEN,
        subject="Parcel arrived damaged",
        assignee_id=None,
        opened_at=opened,
        due_at=opened + timedelta(days=2),
        history=(StatusChange(CaseStatus.OPEN, opened, None, None),),
        resolution=None,
        customer_notified=None,
        version=1,
    )
    return replace(base, **overrides)


def feedback(of: Customer | None, **overrides: Any) -> Feedback:
    base = Feedback(
        id=next_id(),
        customer_id=of.id if of else None,
        channel=FeedbackChannel.APP,
        touchpoint=Touchpoint.DELIVERY,
        occurred_at=NOW - timedelta(days=2),
        received_at=NOW - timedelta(days=2) + timedelta(minutes=5),
        nps=9,
        csat=5,
        effort=2,
        items=(ScoreItem("speed", 5, 6), ScoreItem("friendliness", 6, 6)),
        comment="Quick and friendly.",
        transaction_id=None,
        case_id=None,
        interaction_id=None,
        region=of.region if of else "north",
        segment=of.segment.value if of else None,
    )
    return replace(base, **overrides)


def opportunity(of: Customer, **overrides: Any) -> Opportunity:
    base = Opportunity(
        id=next_id(),
        customer_id=of.id,
        region=of.region,
        title="Premium plan upgrade",
        stage=OpportunityStage.PROPOSAL,
        amount=Money(1200_00, "EUR"),
        probability=50,
        expected_close_on=(NOW + timedelta(days=30)).date(),
        owner_id=None,
        opened_at=NOW - timedelta(days=20),
    )
    return replace(base, **overrides)


async def store_feedback(repos: Repositories, responses: list[Feedback]) -> None:
    """Responses and their rollup increments, one by one as intake writes them."""
    await repos.feedback.insert_many(responses)
    for response in responses:
        await repos.rollups.add(response)


async def derive(
    repos: Repositories, uow: UnitOfWork, customers: Iterable[Customer], *, now: datetime | None = None
) -> None:
    """The standings and experience-value observations of these customers, as the standing worker keeps
    them (tests write records directly, with the worker off)."""
    await refresh(repos, uow, [c.id for c in customers], now=now or datetime.now(UTC))


def alert(customer: Customer, response: Feedback, now: datetime = NOW) -> Alert:
    """An open alert raised by ``response`` of ``customer`` (a low NPS), as intake raises it."""
    return alert_rules.raise_alert(
        alert_id=next_id(),
        customer_id=customer.id,
        region=customer.region,
        standard=default_standard(customer.region, response.touchpoint),
        reasons=(AlertReason.LOW_NPS,),
        assignee_id=None,
        now=now,
        by="customer",
        feedback_id=response.id,
        nps=response.nps,
    )
