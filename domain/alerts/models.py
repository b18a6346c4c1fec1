"""An alert and the steps of its life."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from domain.root_cause import RootCause
from domain.standards.models import TargetMetric

# How long after an alert's resolution the customer's next response counts as telling whether they recovered.
RECOVERY_WINDOW = timedelta(days=30)


class AlertKind(StrEnum):
    """Which level of the loop an alert belongs to."""

    OPERATIONAL = "OPERATIONAL"  # one bad experience: a response or a complaint, to its handler
    TACTICAL = "TACTICAL"  # a touchpoint below its standard over a window of days, to the region's manager


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
    NPS_BELOW_TARGET = "NPS_BELOW_TARGET"
    CSAT_BOTTOM_BOX_ABOVE_TARGET = "CSAT_BOTTOM_BOX_ABOVE_TARGET"
    SATISFACTION_INDEX_BELOW_TARGET = "SATISFACTION_INDEX_BELOW_TARGET"


# The reason a tactical alert gives for each metric whose window target broke.
BREACH_REASONS = {
    TargetMetric.NPS: AlertReason.NPS_BELOW_TARGET,
    TargetMetric.CSAT_BOTTOM_BOX_SHARE: AlertReason.CSAT_BOTTOM_BOX_ABOVE_TARGET,
    TargetMetric.SATISFACTION_INDEX: AlertReason.SATISFACTION_INDEX_BELOW_TARGET,
}


class AlertAction(StrEnum):
    """A step in an alert's history."""

    RAISED = "RAISED"
    ACKNOWLEDGED = "ACKNOWLEDGED"
    RESOLVED = "RESOLVED"
    REASSIGNED = "REASSIGNED"
    REOPENED = "REOPENED"
    ESCALATED = "ESCALATED"
    PLANNED = "PLANNED"  # an action plan was set or changed
    CLEARED = "CLEARED"  # a tactical alert's window was back within target for a full window


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
class ActionPlan:
    """What will be done about a tactical alert, and by when."""

    text: str
    due_at: datetime
    at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class Contribution:
    """How much one channel's or segment's cell moved a window's figure against the window before.

    The window's figure is the sum over a dimension's cells of each cell's share of the answers times its
    figure, so the cells' ``change`` values add up to the figure's change (in the metric's unit).
    """

    axis: str  # an aggregate axis: "channel" or "segment"
    value: str
    responses: int  # answers to the metric in the cell, in the window
    figure: float | None  # the cell's own figure in the window
    change: float


@dataclass(frozen=True, slots=True)
class TacticalBreach:
    """What a tactical alert is about: one metric's figure over a window against its target, when raised."""

    metric: TargetMetric
    figure: float
    target: float
    window_days: int
    window_first: date  # local days of the reporting time zone, both included
    window_last: date
    responses: int  # answers to the metric in the window
    standard_version: int  # of the region's standard (0: the company's or the default applied)
    worst: tuple[Contribution, ...]  # the cells that moved the figure most the wrong way, worst first
    cleared_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Recovery:
    """The customer's next response after the alert was resolved (within ``RECOVERY_WINDOW``)."""

    feedback_id: str
    nps: int | None
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
    kind: AlertKind = AlertKind.OPERATIONAL
    tactical: TacticalBreach | None = None
    action_plan: ActionPlan | None = None
    nps: int | None = None  # the NPS of the response that raised it
    recovery: Recovery | None = None
    root_cause: RootCause | None = None  # recorded with its (latest) resolution

    @property
    def due_at(self) -> datetime:
        """The next deadline: acknowledgement while open, resolution after that."""
        return self.acknowledge_due_at if self.state is AlertState.OPEN else self.resolve_due_at

    def is_overdue(self, now: datetime) -> bool:
        return self.state is not AlertState.RESOLVED and self.due_at < now


@dataclass(frozen=True, slots=True)
class Handling:
    """What an operational alert's handling came to: what loop-performance figures are computed from."""

    alert_id: str
    customer_id: str | None
    region: str
    assignee_id: str | None
    raised_at: datetime
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None  # the first acknowledgement (or resolution, which acknowledges too)
    resolved_at: datetime | None  # the latest resolution, while it is resolved
    reopened: bool
    escalated: bool
    nps: int | None  # of the response that raised it
    recovery_nps: int | None  # of the customer's next response after its resolution, if any
    recovered_at: datetime | None = None  # when that next response was given
