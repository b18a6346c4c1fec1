"""Feedback intake: validate, store idempotently, and raise the alert in the same transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from domain.alerts import rules
from domain.alerts.models import Alert
from domain.alerts.service import accountable_employee
from domain.customers.models import Customer
from domain.errors import FieldError, IdempotencyConflict, NotFound, ValidationFailed
from domain.feedback.models import Feedback, FeedbackChannel
from domain.feedback.submission import FeedbackSubmission, check_submission
from domain.ids import new_id
from domain.lists.models import ListKind, ManagedList
from domain.repositories import Repositories
from domain.store import DuplicateKey, Session, UnitOfWork

T = TypeVar("T")

# Staff submit on a customer's behalf only for experiences they witnessed directly.
STAFF_CHANNELS = frozenset({FeedbackChannel.PHONE, FeedbackChannel.IN_PERSON})


@dataclass(frozen=True, slots=True)
class Submitter:
    """Who sends the feedback: the customer itself, or an employee on the customer's behalf."""

    subject: str
    on_behalf: bool


@dataclass(frozen=True, slots=True)
class Intake:
    """The stored response, the alert it raised (if any), and whether it was stored before."""

    feedback: Feedback
    alert: Alert | None
    duplicate: bool


async def submit_feedback(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    submitter: Submitter,
    submission: FeedbackSubmission,
    now: datetime,
    make_id: Callable[[], str] = new_id,
) -> Intake:
    """Store a response once per idempotency key; a breach of the standard raises its alert atomically."""
    if errors := problems(submitter, submission, now=now):
        raise ValidationFailed(errors)
    previous = await repos.feedback.by_idempotency_key(submitter.subject, submission.idempotency_key)
    if previous is not None:
        return await _replay(repos, previous, submission)
    await _check_dimensions(repos, submission)
    customer = (await repos.customers.get_many([submission.customer_id])).get(submission.customer_id)
    if customer is None:
        raise NotFound("no such customer", field="customerId")
    await _check_links(repos, submission)
    feedback = new_feedback(make_id(), customer, submitter, submission, now)
    standard = await repos.standards.for_touchpoint(customer.region, submission.touchpoint)
    alert = None
    if reasons := rules.reasons_for(feedback, standard.rule):
        alert = rules.raise_alert(
            alert_id=make_id(),
            customer_id=customer.id,
            region=customer.region,
            standard=standard,
            reasons=reasons,
            assignee_id=await accountable_employee(repos, owner_id=customer.owner_id, region=customer.region),
            now=now,
            by=submitter.subject,
            feedback_id=feedback.id,
            nps=feedback.nps,
        )

    try:
        # Once storing starts it runs to its end, the request's time limit or not: what is stored is
        # answered as stored, never as failed.
        await run_to_the_end(_store(repos, uow, feedback, alert))
    except DuplicateKey:
        # A concurrent retry with the same key committed first: answer as that one did.
        first = await repos.feedback.by_idempotency_key(submitter.subject, submission.idempotency_key)
        if first is None:
            raise
        return await _replay(repos, first, submission)
    return Intake(feedback, alert, duplicate=False)


async def run_to_the_end(work: Awaitable[T]) -> tuple[T, bool]:
    """``work`` run to its end even when the caller is cancelled meanwhile; True when it was."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            return await asyncio.shield(task), cancelled
        except asyncio.CancelledError:
            cancelled = True
            if task.done():
                return task.result(), cancelled


async def _store(repos: Repositories, uow: UnitOfWork, feedback: Feedback, alert: Alert | None) -> None:
    """The response, the alert it raised and its rollup counts in one transaction: all of them, or none.

    The response is also noted on its customer's alerts resolved shortly before, as their recovery.
    """

    async def write(session: Session) -> None:
        await repos.feedback.insert(feedback, session=session)
        await repos.alerts.record_recovery(feedback, session=session)
        if alert is not None:
            await repos.alerts.insert(alert, session=session)
        # Counted in the same transaction, so aggregates never miss or double a response.
        await repos.rollups.add(feedback, session=session)

    await uow.run(write)


def problems(submitter: Submitter, submission: FeedbackSubmission, *, now: datetime) -> list[FieldError]:
    """Every rule the submission breaks, its submitter's included (empty: it may be stored)."""
    errors = check_submission(submission, now=now)
    if submitter.on_behalf and submission.channel not in STAFF_CHANNELS:
        errors.append(FieldError("channel", "NOT_ALLOWED", "staff submit only PHONE or IN_PERSON feedback"))
    return errors


async def _replay(repos: Repositories, previous: Feedback, submission: FeedbackSubmission) -> Intake:
    alert = (await repos.alerts.by_feedback([previous.id])).get(previous.id)
    return replayed(previous, alert, submission)


def replayed(previous: Feedback, alert: Alert | None, submission: FeedbackSubmission) -> Intake:
    """A retry answered as its first submission was; the same key with other content is a conflict."""
    if previous.fingerprint != submission.fingerprint():
        raise IdempotencyConflict(
            "this idempotency key was used for a different response", field="idempotencyKey"
        )
    return Intake(previous, alert, duplicate=True)


async def _check_dimensions(repos: Repositories, submission: FeedbackSubmission) -> None:
    """Every item names an active service dimension of the managed list (one read, only with items)."""
    if submission.items and (errors := unlisted_dimensions(await dimensions_of(repos), submission)):
        raise ValidationFailed(errors)


async def dimensions_of(repos: Repositories) -> ManagedList:
    """The managed list feedback items name their service dimension from."""
    return await repos.lists.get(ListKind.SERVICE_DIMENSION)


def unlisted_dimensions(dimensions: ManagedList, submission: FeedbackSubmission) -> list[FieldError]:
    """An error for each item whose dimension is not an active code of ``dimensions``."""
    refusals = (
        dimensions.refusal(f"items.{n}.dimension", i.dimension) for n, i in enumerate(submission.items)
    )
    return [refusal for refusal in refusals if refusal is not None]


async def _check_links(repos: Repositories, submission: FeedbackSubmission) -> None:
    """Linked records must exist and belong to the same customer."""
    links = (
        ("transactionId", submission.transaction_id, repos.transactions.get_many),
        ("caseId", submission.case_id, repos.cases.get_many),
        ("interactionId", submission.interaction_id, repos.interactions.get_many),
    )
    for field, record_id, fetch in links:
        if record_id is None:
            continue
        record = (await fetch([record_id])).get(record_id)
        if record is None or record.customer_id != submission.customer_id:
            raise ValidationFailed([FieldError(field, "NOT_FOUND", "no such record of this customer")])


def new_feedback(
    feedback_id: str, customer: Customer, submitter: Submitter, submission: FeedbackSubmission, now: datetime
) -> Feedback:
    """The response as stored: the customer's region and segment of the time, who sent it, its fingerprint."""
    return Feedback(
        id=feedback_id,
        customer_id=customer.id,
        channel=submission.channel,
        touchpoint=submission.touchpoint,
        occurred_at=submission.occurred_at,
        received_at=now,
        nps=submission.nps,
        csat=submission.csat,
        effort=submission.effort,
        items=submission.items,
        comment=submission.comment,
        transaction_id=submission.transaction_id,
        case_id=submission.case_id,
        interaction_id=submission.interaction_id,
        region=customer.region,
        segment=customer.segment.value,
        submitted_by=submitter.subject,
        idempotency_key=submission.idempotency_key,
        fingerprint=submission.fingerprint(),
    )
