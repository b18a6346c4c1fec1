"""A feedback response and the scores derived from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class FeedbackChannel(StrEnum):
    """Where the feedback was given."""

    APP = "APP"
    WEB = "WEB"
    POS = "POS"
    KIOSK = "KIOSK"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    SMS = "SMS"
    IN_PERSON = "IN_PERSON"


class Touchpoint(StrEnum):
    """The moment of the customer journey the feedback is about."""

    STORE_VISIT = "STORE_VISIT"
    ONLINE_ORDER = "ONLINE_ORDER"
    DELIVERY = "DELIVERY"
    SUPPORT_CALL = "SUPPORT_CALL"
    BILLING = "BILLING"
    ONBOARDING = "ONBOARDING"


class FeedbackStatus(StrEnum):
    """What the customer sees of the loop: heard, being handled, or resolved."""

    RECEIVED = "RECEIVED"
    BEING_HANDLED = "BEING_HANDLED"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True, slots=True)
class ScoreItem:
    """Expectation and perception of one service dimension, each on a 1-7 scale."""

    dimension: str
    expectation: int
    perception: int

    @property
    def gap(self) -> int:
        """Perceived minus expected: negative when the company fell short."""
        return self.perception - self.expectation


def satisfaction_index(items: Sequence[ScoreItem]) -> float | None:
    """Mean over items of perception / expectation; 1.0 means expectations met exactly."""
    if not items:
        return None
    return sum(item.perception / item.expectation for item in items) / len(items)


@dataclass(frozen=True, slots=True)
class Feedback:
    """A customer's response about one experience."""

    id: str
    customer_id: str | None
    channel: FeedbackChannel
    touchpoint: Touchpoint
    occurred_at: datetime
    received_at: datetime
    nps: int | None
    csat: int | None
    effort: int | None
    items: tuple[ScoreItem, ...]
    comment: str | None
    transaction_id: str | None
    case_id: str | None
    interaction_id: str | None
    region: str | None
    segment: str | None
    # Set on submissions through the API: who sent it, their idempotency key and the content's fingerprint.
    submitted_by: str | None = None
    idempotency_key: str | None = None
    fingerprint: str | None = None

    @property
    def satisfaction_index(self) -> float | None:
        return satisfaction_index(self.items)
