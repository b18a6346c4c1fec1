"""An alert and the steps of its life."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlertState(StrEnum):
    """Where an alert is in its handling."""

    OPEN = "OPEN"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"


class AlertReason(StrEnum):
    """Why an alert was raised."""

    LOW_NPS = "LOW_NPS"
    LOW_CSAT = "LOW_CSAT"
    LOW_SATISFACTION_INDEX = "LOW_SATISFACTION_INDEX"
    COMPLAINT = "COMPLAINT"


class AlertAction(StrEnum):
    """A step in an alert's history."""

    RAISED = "RAISED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"
    REASSIGNED = "REASSIGNED"
    REOPENED = "REOPENED"
    ESCALATED = "ESCALATED"


@dataclass(frozen=True, slots=True)
class AlertStep:
    """Who did what to the alert, and when."""

    action: AlertAction
    at: datetime
    by: str
    note: str | None = None
    assignee_id: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What the customer was told, and how."""

    message: str
    channel: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Alert:
    """A bad experience that the accountable employee must acknowledge and resolve within the standard."""

    id: str
    customer_id: str | None
    region: str
    touchpoint: str
    feedback_id: str | None
    case_id: str | None
    reasons: tuple[AlertReason, ...]
    state: AlertState
    assignee_id: str | None
    raised_at: datetime
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    escalated_at: datetime | None
    escalated_to: str | None
    resolution: str | None
    reply: Reply | None
    history: tuple[AlertStep, ...]
    version: int

    @property
    def due_at(self) -> datetime:
        """The next deadline: acknowledgement while open, resolution after that."""
        return self.acknowledge_due_at if self.state is AlertState.OPEN else self.resolve_due_at

    def is_overdue(self, now: datetime) -> bool:
        return self.state is not AlertState.RESOLVED and self.due_at < now
