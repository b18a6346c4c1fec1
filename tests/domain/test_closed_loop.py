"""The closed loop at the domain: intake, idempotency, atomic alerts, routing, lifecycle, escalation."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.aggregates.service import verify_rollups
from domain.alerts import service
from domain.alerts.models import Alert, AlertAction, AlertReason, AlertState
from domain.alerts.repository import AlertRepository
from domain.employees.models import EmployeeRole
from domain.errors import Conflict, IdempotencyConflict, ValidationFailed
from domain.feedback.models import FeedbackChannel, ScoreItem, Touchpoint
from domain.feedback.service import Submitter, submit_feedback
from domain.feedback.submission import FeedbackSubmission
from domain.repositories import Repositories
from domain.store import Session
from tests import factories as f

NOW = f.NOW
CUSTOMER = Submitter("customer-self", on_behalf=False)


def detractor(customer_id: str, key: str = "k-1", **overrides: Any) -> FeedbackSubmission:
    base = FeedbackSubmission(
        idempotency_key=key,
        customer_id=customer_id,
        channel=FeedbackChannel.APP,
        touchpoint=Touchpoint.DELIVERY,
        occurred_at=NOW - timedelta(hours=1),
        nps=1,
        csat=2,
        items=(ScoreItem("speed", 6, 2),),
        comment="Two days late.",
    )
    return replace(base, **overrides)


async def counts(db: MongoDatabase) -> tuple[int, int]:
    return await db["feedback"].count_documents({}), await db["alerts"].count_documents({})


async def test_a_detractor_raises_an_alert_for_the_owner_with_deadlines(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    owner = f.employee()
    customer = f.customer(owner_id=owner.id)
    await repos.employees.insert_many([owner])
    await repos.customers.insert_many([customer])

    intake = await submit_feedback(repos, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW)

    alert = intake.alert
    assert alert is not None
    assert alert.reasons == (AlertReason.LOW_NPS, AlertReason.LOW_SATISFACTION_INDEX)
    assert alert.assignee_id == owner.id
    assert alert.acknowledge_due_at == NOW + timedelta(hours=4)
    assert alert.resolve_due_at == NOW + timedelta(days=2)
    assert alert.feedback_id == intake.feedback.id
    stored = await repos.alerts.get_many([alert.id])
    assert stored[alert.id] == alert
    assert await counts(db) == (1, 1)


async def test_a_happy_response_raises_no_alert(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    happy = detractor(customer.id, nps=10, csat=5, items=(ScoreItem("speed", 5, 6),))
    intake = await submit_feedback(repos, uow, submitter=CUSTOMER, submission=happy, now=NOW)
    assert intake.alert is None
    assert await counts(db) == (1, 0)


async def test_without_owner_the_least_busy_frontline_employee_of_the_region_gets_it(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    busy, idle, elsewhere = f.employee(), f.employee(), f.employee(regions=("south",))
    manager = f.employee(role=EmployeeRole.MANAGER)
    await repos.employees.insert_many([busy, idle, elsewhere, manager])
    customers = [f.customer() for _ in range(3)]
    await repos.customers.insert_many(customers)
    assignees = []
    for n, customer in enumerate(customers):
        intake = await submit_feedback(
            repos, uow, submitter=CUSTOMER, submission=detractor(customer.id, key=f"k{n}"), now=NOW
        )
        assert intake.alert is not None
        assignees.append(intake.alert.assignee_id)
    first, second = sorted([busy.id, idle.id])
    assert assignees == [first, second, first]


async def test_a_retry_returns_the_first_result_and_writes_nothing(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    first = await submit_feedback(repos, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW)
    again = await submit_feedback(
        repos, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW + timedelta(minutes=3)
    )
    assert (again.feedback, again.alert, again.duplicate) == (first.feedback, first.alert, True)
    assert await counts(db) == (1, 1)


async def test_the_same_key_with_other_content_is_an_idempotency_conflict(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    await submit_feedback(repos, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW)
    with pytest.raises(IdempotencyConflict):
        await submit_feedback(
            repos, uow, submitter=CUSTOMER, submission=detractor(customer.id, nps=9), now=NOW
        )
    assert await counts(db) == (1, 1)


async def test_keys_are_per_submitter(repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    for subject in ("device-a", "device-b"):
        await submit_feedback(
            repos, uow, submitter=Submitter(subject, False), submission=detractor(customer.id), now=NOW
        )
    assert await counts(db) == (2, 2)


async def test_fifty_concurrent_submissions_with_one_key_store_one_feedback_and_one_alert(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    results = await asyncio.gather(
        *(
            submit_feedback(repos, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW)
            for _ in range(50)
        )
    )
    assert await counts(db) == (1, 1)
    assert len({(r.feedback, r.alert) for r in results}) == 1
    assert sum(not r.duplicate for r in results) <= 1


class FailingAlerts(AlertRepository):
    """Fails the alert write after the feedback was written in the same transaction."""

    async def insert(self, record: Alert, *, session: Session | None = None) -> None:
        raise RuntimeError("injected failure between the feedback and the alert write")


async def test_a_failure_between_the_feedback_and_the_alert_write_leaves_neither(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    failing = replace(repos, alerts=FailingAlerts(db))
    with pytest.raises(RuntimeError, match="injected"):
        await submit_feedback(failing, uow, submitter=CUSTOMER, submission=detractor(customer.id), now=NOW)
    assert await counts(db) == (0, 0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nps": 11}, "nps"),
        ({"csat": 0}, "csat"),
        ({"effort": 8}, "effort"),
        ({"items": (ScoreItem("speed", 0, 3),)}, "items.0.expectation"),
        ({"items": (ScoreItem("speed", 3, 3), ScoreItem("speed", 2, 2))}, "items"),
        ({"idempotency_key": ""}, "idempotencyKey"),
        ({"idempotency_key": "x" * 256}, "idempotencyKey"),
        ({"occurred_at": NOW + timedelta(hours=1)}, "occurredAt"),
        ({"comment": "x" * 4001}, "comment"),
        ({"nps": None, "csat": None, "items": (), "comment": None}, "nps"),
    ],
)
async def test_invalid_submissions_are_refused_and_write_nothing(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase, overrides: dict[str, Any], field: str
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    with pytest.raises(ValidationFailed) as refused:
        await submit_feedback(
            repos, uow, submitter=CUSTOMER, submission=detractor(customer.id, **overrides), now=NOW
        )
    assert field in [e.field for e in refused.value.errors]
    assert await counts(db) == (0, 0)


async def test_staff_submit_only_phone_or_in_person_feedback(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    agent = Submitter("agent-1", on_behalf=True)
    with pytest.raises(ValidationFailed):
        await submit_feedback(repos, uow, submitter=agent, submission=detractor(customer.id), now=NOW)
    phoned = detractor(customer.id, channel=FeedbackChannel.PHONE)
    assert (await submit_feedback(repos, uow, submitter=agent, submission=phoned, now=NOW)).alert is not None


async def raised(repos: Repositories, uow: MongoUnitOfWork) -> Alert:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    submission = detractor(customer.id, key=f.next_id())
    intake = await submit_feedback(repos, uow, submitter=CUSTOMER, submission=submission, now=NOW)
    assert intake.alert is not None
    return intake.alert


async def test_lifecycle_keeps_every_step_with_who_and_when(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    alert = await raised(repos, uow)
    other = f.employee()
    await repos.employees.insert_many([other])
    later = NOW + timedelta(hours=1)
    alert = await service.acknowledge(repos, uow, alert_id=alert.id, version=1, by="agent-1", now=later)
    alert = await service.reassign(
        repos, uow, alert_id=alert.id, version=2, by="boss", now=later, assignee_id=other.id, note="cover"
    )
    resolution = service.Resolution(
        "Refunded delivery fee",
        "Sorry, we refunded the fee.",
        "EMAIL",
        "carrier-delay",
        "Parcel sat at the depot",
    )
    alert = await service.resolve(
        repos, uow, alert_id=alert.id, version=3, by=other.id, now=later, resolution=resolution
    )
    alert = await service.reopen(
        repos, uow, alert_id=alert.id, version=4, by="boss", now=later, note="still unhappy"
    )
    assert [step.action for step in alert.history] == [
        AlertAction.RAISED,
        AlertAction.ACKNOWLEDGED,
        AlertAction.REASSIGNED,
        AlertAction.RESOLVED,
        AlertAction.REOPENED,
    ]
    assert [step.by for step in alert.history[1:]] == ["agent-1", "boss", other.id, "boss"]
    assert alert.state is AlertState.OPEN
    assert alert.version == 5
    assert (await repos.alerts.get_many([alert.id]))[alert.id] == alert
    # Each step also set the alert's packed handling, which loop performance reads.
    assert await verify_rollups(repos) == []


async def test_a_stale_version_is_a_conflict(repos: Repositories, uow: MongoUnitOfWork) -> None:
    alert = await raised(repos, uow)
    await service.acknowledge(repos, uow, alert_id=alert.id, version=1, by="a", now=NOW)
    resolution = service.Resolution("x", "y", "SMS")
    with pytest.raises(Conflict):
        await service.resolve(
            repos, uow, alert_id=alert.id, version=1, by="b", now=NOW, resolution=resolution
        )


async def test_three_concurrent_sweeps_escalate_each_overdue_alert_exactly_once(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    manager = f.employee(role=EmployeeRole.MANAGER)
    await repos.employees.insert_many([manager])
    alerts = [await raised(repos, uow) for _ in range(5)]
    late = NOW + timedelta(hours=5)
    escalated = await asyncio.gather(*(service.escalate_overdue(repos, uow, now=late) for _ in range(3)))
    assert sum(escalated) == 5
    for alert in (await repos.alerts.get_many([a.id for a in alerts])).values():
        steps = [s for s in alert.history if s.action is AlertAction.ESCALATED]
        assert len(steps) == 1
        assert alert.escalated_to == manager.id
    assert await service.escalate_overdue(repos, uow, now=late + timedelta(days=5)) == 0
    assert await verify_rollups(repos) == []  # the packed handling of each alert says it was escalated
