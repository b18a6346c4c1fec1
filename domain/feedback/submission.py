"""What a client submits as feedback, the rules it must keep, and its fingerprint for idempotent retries."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.errors import FieldError
from domain.feedback.models import FeedbackChannel, ScoreItem, Touchpoint
from domain.feedback.scores import CSAT_SCORES, EFFORT_SCORES, ITEM_SCORES, NPS_SCORES

MAX_KEY = 255
MAX_COMMENT = 4000
MAX_ITEMS = 20
MAX_DIMENSION = 40
FUTURE_TOLERANCE = timedelta(minutes=5)
OLDEST = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class FeedbackSubmission:
    """One response as sent by an app, a kiosk or an employee on the customer's behalf."""

    idempotency_key: str
    customer_id: str
    channel: FeedbackChannel
    touchpoint: Touchpoint
    occurred_at: datetime
    nps: int | None = None
    csat: int | None = None
    effort: int | None = None
    items: tuple[ScoreItem, ...] = ()
    comment: str | None = None
    transaction_id: str | None = None
    case_id: str | None = None
    interaction_id: str | None = None

    def fingerprint(self) -> str:
        """A hash of the content (everything but the key), to tell a retry from a different response."""
        content = {
            "customer": self.customer_id,
            "channel": self.channel.value,
            "touchpoint": self.touchpoint.value,
            "occurredAt": self.occurred_at.astimezone(UTC).isoformat() if self.occurred_at.tzinfo else None,
            "scores": [self.nps, self.csat, self.effort],
            "items": [[i.dimension, i.expectation, i.perception] for i in self.items],
            "comment": self.comment,
            "links": [self.transaction_id, self.case_id, self.interaction_id],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _in_range(errors: list[FieldError], field: str, value: int | None, scale: range) -> None:
    if value is not None and value not in scale:
        message = f"must be between {scale.start} and {scale.stop - 1}"
        errors.append(FieldError(field, "OUT_OF_RANGE", message))


def check_submission(submission: FeedbackSubmission, *, now: datetime) -> list[FieldError]:
    """Every rule the submission breaks (empty: it may be stored)."""
    errors: list[FieldError] = []
    key = submission.idempotency_key
    if not 1 <= len(key) <= MAX_KEY or not key.isprintable():
        errors.append(FieldError("idempotencyKey", "INVALID", f"must be 1 to {MAX_KEY} printable characters"))
    _in_range(errors, "nps", submission.nps, NPS_SCORES)
    _in_range(errors, "csat", submission.csat, CSAT_SCORES)
    _in_range(errors, "effort", submission.effort, EFFORT_SCORES)
    if len(submission.items) > MAX_ITEMS:
        errors.append(FieldError("items", "TOO_MANY", f"at most {MAX_ITEMS} items"))
    dimensions = [item.dimension for item in submission.items]
    if len(set(dimensions)) != len(dimensions):
        errors.append(FieldError("items", "DUPLICATE", "each dimension may appear once"))
    for n, item in enumerate(submission.items):
        if not 1 <= len(item.dimension.strip()) <= MAX_DIMENSION:
            errors.append(
                FieldError(f"items.{n}.dimension", "INVALID", f"must be 1 to {MAX_DIMENSION} characters")
            )
        _in_range(errors, f"items.{n}.expectation", item.expectation, ITEM_SCORES)
        _in_range(errors, f"items.{n}.perception", item.perception, ITEM_SCORES)
    if submission.comment is not None and len(submission.comment) > MAX_COMMENT:
        errors.append(FieldError("comment", "TOO_LONG", f"at most {MAX_COMMENT} characters"))
    scored = (submission.nps, submission.csat, submission.effort, submission.comment)
    if all(value is None for value in scored) and not submission.items:
        errors.append(FieldError("nps", "REQUIRED", "give at least one score, item or comment"))
    moment = submission.occurred_at
    if moment.tzinfo is None:
        errors.append(FieldError("occurredAt", "INVALID", "must include a time zone"))
    elif moment > now + FUTURE_TOLERANCE:
        errors.append(FieldError("occurredAt", "IN_THE_FUTURE", "cannot be in the future"))
    elif moment < now - OLDEST:
        errors.append(FieldError("occurredAt", "TOO_OLD", "must be within the last year"))
    return errors
