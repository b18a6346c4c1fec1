"""Submitting feedback, one response or a batch of offline ones."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import strawberry

from auth.policy import feedback_submitter, own_customer_id
from domain.errors import DomainError, ErrorCode, FieldError, ValidationFailed
from domain.feedback.batch import Answer, MaybeStored, NotStarted, submit_batch
from domain.feedback.models import ScoreItem as DomainScoreItem
from domain.feedback.service import Intake, submit_feedback
from domain.feedback.submission import FeedbackSubmission
from domain.store import OutOfTime
from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.enums import FeedbackChannel, Touchpoint, describe_enum
from resolvers.feedback.types import Feedback
from resolvers.node import expect_global_id
from resolvers.results import (
    ConflictError,
    Error,
    IdempotencyConflictError,
    NotFoundError,
    ValidationError,
    attempt,
    error_of,
)

MAX_BATCH = 100


@strawberry.input(description="Expectation and perception of one service dimension, each 1-7.")
class ScoreItemInput:
    dimension: str = strawberry.field(
        description="The service dimension: an active SERVICE_DIMENSION code of managedList, e.g. speed."
    )
    expectation: int = strawberry.field(description="What the customer expected, 1-7.")
    perception: int = strawberry.field(description="What the customer perceived, 1-7.")


@strawberry.input(description="One feedback response, given at the time of the experience.")
class SubmitFeedbackInput:
    idempotency_key: str = strawberry.field(
        description="Unique per submitter (1-255 characters): a retry with the same key and content is "
        "answered as the first time and stores nothing."
    )
    channel: FeedbackChannel = strawberry.field(description="Where the feedback is given.")
    touchpoint: Touchpoint = strawberry.field(description="The moment of the journey it is about.")
    occurred_at: datetime = strawberry.field(description="When the experience happened (with a time zone).")
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer; staff must give it, a customer is always itself."
    )
    nps: int | None = strawberry.field(default=None, description="Likelihood to recommend, 0-10.")
    csat: int | None = strawberry.field(default=None, description="Satisfaction, 1-5.")
    effort: int | None = strawberry.field(default=None, description="Effort it took, 1-7.")
    items: list[ScoreItemInput] | None = strawberry.field(
        default=None, description="Expectation vs perception."
    )
    comment: str | None = strawberry.field(default=None, description="The customer's own words.")
    transaction_id: strawberry.ID | None = strawberry.field(
        default=None, description="The purchase it is about."
    )
    case_id: strawberry.ID | None = strawberry.field(default=None, description="The case it is about.")
    interaction_id: strawberry.ID | None = strawberry.field(
        default=None, description="The contact it is about."
    )

    def to_domain(self, customer_id: str | None) -> FeedbackSubmission:
        chosen = customer_id or (expect_global_id(self.customer_id, "Customer") if self.customer_id else None)
        if chosen is None:
            raise ValidationFailed([FieldError("customerId", "REQUIRED", "say which customer this is about")])
        return FeedbackSubmission(
            idempotency_key=self.idempotency_key,
            customer_id=chosen,
            channel=self.channel,
            touchpoint=self.touchpoint,
            occurred_at=self.occurred_at,
            nps=self.nps,
            csat=self.csat,
            effort=self.effort,
            items=tuple(DomainScoreItem(i.dimension, i.expectation, i.perception) for i in self.items or ()),
            comment=self.comment,
            transaction_id=_record(self.transaction_id, "Transaction"),
            case_id=_record(self.case_id, "Case"),
            interaction_id=_record(self.interaction_id, "Interaction"),
        )


def _record(global_id: strawberry.ID | None, type_name: str) -> str | None:
    return expect_global_id(global_id, type_name) if global_id is not None else None


@strawberry.type(description="The response was stored (or had been, for a retry).")
class FeedbackSubmitted:
    feedback: Feedback = strawberry.field(description="The stored response.")
    alert: Alert | None = strawberry.field(description="The alert it raised, if it broke the standard.")

    @classmethod
    def of(cls, intake: Intake) -> FeedbackSubmitted:
        return cls(
            feedback=Feedback.of(intake.feedback), alert=Alert.of(intake.alert) if intake.alert else None
        )


@strawberry.type(
    description=(
        "The item was not started: its batch reached the request's time limit first. Nothing of it was "
        "stored; send it again with the same key."
    )
)
class NotStartedError(Error):
    pass


@strawberry.type(
    description=(
        "The request's time limit fell as the response was being committed, and the database did not "
        "confirm the commit: it may have been stored. Send it again with the same key: stored once either "
        "way (in a batch, DUPLICATE if it was, ACCEPTED if not)."
    )
)
class MaybeStoredError(Error):
    pass


SubmitFeedbackResult = Annotated[
    FeedbackSubmitted
    | ValidationError
    | NotFoundError
    | ConflictError
    | IdempotencyConflictError
    | NotStartedError
    | MaybeStoredError,
    strawberry.union("SubmitFeedbackResult", description="The stored response, or why it was not stored."),
]


class BatchItemStatus(StrEnum):
    """What happened to one item of a batch."""

    ACCEPTED = "ACCEPTED"
    DUPLICATE = "DUPLICATE"
    ERROR = "ERROR"
    NOT_STARTED = "NOT_STARTED"
    MAYBE_STORED = "MAYBE_STORED"


describe_enum(
    BatchItemStatus,
    "What happened to one item of a batch.",
    {
        BatchItemStatus.ACCEPTED: "Stored now; its result is the stored response.",
        BatchItemStatus.DUPLICATE: "Stored before with the same key and content: nothing stored again.",
        BatchItemStatus.ERROR: "Not stored; its result says why.",
        BatchItemStatus.NOT_STARTED: "Not started before the request's time limit: nothing stored, and "
        "sending it again completes it.",
        BatchItemStatus.MAYBE_STORED: "The time limit fell as it was being committed and the database did "
        "not confirm the commit: it may have been stored; sending it again tells (DUPLICATE if it was).",
    },
)


@strawberry.type(description="The outcome of one item of a batch, in the order the items were sent.")
class BatchItemResult:
    index: int = strawberry.field(description="Position of the item in the batch, from 0.")
    idempotency_key: str = strawberry.field(description="The item's idempotency key.")
    status: BatchItemStatus = strawberry.field(
        description=(
            "Accepted, duplicate of an earlier submission, error, not started (the batch reached the "
            "request's time limit first: send it again) or maybe stored (its commit went unconfirmed: "
            "send it again)."
        )
    )
    result: SubmitFeedbackResult = strawberry.field(description="The stored response, or why not.")


InputArg = Annotated[SubmitFeedbackInput, strawberry.argument(description="The response.")]
ItemsArg = Annotated[
    list[SubmitFeedbackInput], strawberry.argument(description="Up to 100 responses, each with its own key.")
]


async def _submit(info: Info, submission: SubmitFeedbackInput) -> Intake:
    principal = info.context.principal
    intake = await submit_feedback(
        info.context.repos,
        info.context.uow,
        submitter=feedback_submitter(principal),
        submission=submission.to_domain(own_customer_id(principal)),
        now=info.context.now,
    )
    if not intake.duplicate:
        info.context.window_checks.noticed(intake.feedback)
    return intake


@strawberry.type
class FeedbackMutations:
    @strawberry.mutation(
        description=(
            "Submit one feedback response; idempotent by key; may raise an alert. A response being stored "
            "when the request's time limit falls is stored and answered; one whose commit the database did "
            "not confirm by then is MAYBE_STORED."
        )
    )
    async def submit_feedback(self, info: Info, input: InputArg) -> SubmitFeedbackResult:
        try:
            outcome = await attempt(_submit(info, input))
        except OutOfTime as out:
            if not out.maybe_stored:
                raise  # rolled back: nothing is stored, and the request's TIMEOUT says so
            return _maybe_stored()
        return FeedbackSubmitted.of(outcome) if isinstance(outcome, Intake) else outcome

    @strawberry.mutation(
        description=(
            "Submit responses collected offline; one bad item never drops the others. Every item is "
            "answered: work stops before it starts, never after it is stored, so near the time limit the "
            "items left are NOT_STARTED. Items whose commit the database did not confirm by then are "
            "MAYBE_STORED."
        )
    )
    async def submit_feedback_batch(self, info: Info, items: ItemsArg) -> list[BatchItemResult]:
        if len(items) > MAX_BATCH:
            raise ValidationFailed([FieldError("items", "TOO_MANY", f"at most {MAX_BATCH} items per batch")])
        context = info.context
        own = own_customer_id(context.principal)
        answers: list[Answer | None] = []
        submissions: list[FeedbackSubmission] = []
        for item in items:
            try:
                submissions.append(item.to_domain(own))
                answers.append(None)
            except DomainError as error:
                answers.append(error)
        stored = iter(
            await submit_batch(
                context.repos,
                context.uow,
                submitter=feedback_submitter(context.principal),
                submissions=submissions,
                now=context.now,
                time_left=_time_left(context.deadline),
            )
        )
        return [
            _item_result(index, item.idempotency_key, answer if answer is not None else next(stored))
            for index, (item, answer) in enumerate(zip(items, answers, strict=True))
        ]


def _time_left(deadline: float | None) -> Callable[[], float]:
    """Seconds until the request's time limit (on the event loop's clock), or forever without one."""
    if deadline is None:
        return lambda: math.inf
    loop = asyncio.get_running_loop()
    return lambda: deadline - loop.time()


def _maybe_stored() -> MaybeStoredError:
    message = (
        "the time limit fell as it was being committed and the commit went unconfirmed: it may have been "
        "stored; send it again with the same key"
    )
    return MaybeStoredError(code=ErrorCode.MAYBE_STORED, message=message)


def _item_result(index: int, key: str, answer: Answer) -> BatchItemResult:
    if isinstance(answer, MaybeStored):
        maybe: SubmitFeedbackResult = _maybe_stored()
        return BatchItemResult(
            index=index, idempotency_key=key, status=BatchItemStatus.MAYBE_STORED, result=maybe
        )
    if isinstance(answer, NotStarted):
        message = "not started: the batch reached the time limit first; send it again with the same key"
        result: SubmitFeedbackResult = NotStartedError(code=ErrorCode.NOT_STARTED, message=message)
        return BatchItemResult(
            index=index, idempotency_key=key, status=BatchItemStatus.NOT_STARTED, result=result
        )
    if isinstance(answer, DomainError):
        return BatchItemResult(
            index=index, idempotency_key=key, status=BatchItemStatus.ERROR, result=error_of(answer)
        )
    status = BatchItemStatus.DUPLICATE if answer.duplicate else BatchItemStatus.ACCEPTED
    return BatchItemResult(
        index=index, idempotency_key=key, status=status, result=FeedbackSubmitted.of(answer)
    )
