"""A customer's standing: how urgently to contact them, what to do, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.money import Money


class NextBestAction(StrEnum):
    """What the frontline should do next with a customer."""

    RECOVER = "RECOVER"  # an open alert or complaint, or a recent bad score: fix it first, never sell
    RETAIN = "RETAIN"  # valuable and slipping: a retention call
    FOLLOW_UP = "FOLLOW_UP"  # passive: ask what would make it a 9 or 10
    ADVOCATE = "ADVOCATE"  # promoter: ask for a referral or a review
    GROW = "GROW"  # promoter with a fitting open opportunity: a cross-sell
    NONE = "NONE"  # nothing to do now


class ReasonCode(StrEnum):
    """Why a standing is what it is; each rule that fires adds its code."""

    NO_HISTORY = "NO_HISTORY"
    OPEN_ALERT = "OPEN_ALERT"
    OPEN_COMPLAINT = "OPEN_COMPLAINT"
    RECENT_BAD_SCORE = "RECENT_BAD_SCORE"
    CHURNED = "CHURNED"
    HIGH_VALUE = "HIGH_VALUE"
    LAPSED_BUYER = "LAPSED_BUYER"
    SPEND_DOWN = "SPEND_DOWN"
    SCORE_DROP = "SCORE_DROP"
    PASSIVE = "PASSIVE"
    PROMOTER = "PROMOTER"
    OPEN_OPPORTUNITY = "OPEN_OPPORTUNITY"
    NO_MARKETING_CONSENT = "NO_MARKETING_CONSENT"
    NO_CONTACT_CONSENT = "NO_CONTACT_CONSENT"
    RECENT_CONTACT = "RECENT_CONTACT"
    NOTHING_DUE = "NOTHING_DUE"


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that shaped a standing: a stable code, and a short text for people."""

    code: ReasonCode
    text: str


@dataclass(frozen=True, slots=True)
class Standing:
    """A customer's priority (0-100) and next best action with their reasons, and what they were read from.

    ``region``, ``segment`` and ``owner_id`` are the customer's, kept beside the standing so the worklist
    is filtered on it alone. ``detractor_at`` (when the customer gave an NPS of 6 or less), ``open_alerts``
    and ``lifetime_value`` are what revenue at risk reads. ``recheck_at`` is the next moment the standing
    changes with time alone (a window closing), None when time alone changes nothing.
    """

    customer_id: str
    region: str
    segment: str
    owner_id: str | None
    priority: int
    action: NextBestAction
    reasons: tuple[Reason, ...]
    detractor_at: tuple[datetime, ...]
    open_alerts: int
    lifetime_value: Money
    computed_at: datetime
    recheck_at: datetime | None

    def same_as(self, other: Standing) -> bool:
        """Whether two standings say the same (when each was computed aside)."""
        return _content(self) == _content(other)


def _content(standing: Standing) -> tuple[object, ...]:
    return (
        standing.customer_id,
        standing.region,
        standing.segment,
        standing.owner_id,
        standing.priority,
        standing.action,
        standing.reasons,
        standing.detractor_at,
        standing.open_alerts,
        standing.lifetime_value,
        standing.recheck_at,
    )
