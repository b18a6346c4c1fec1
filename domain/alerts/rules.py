"""The rules of the closed loop: when an alert is raised, to whom, and how it may move on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from domain.alerts.models import Alert, AlertAction, AlertReason, AlertState, AlertStep, Reply
from domain.errors import Conflict
from domain.feedback.models import Feedback, FeedbackStatus
from domain.standards.models import AlertRule, ServiceStandard


def reasons_for(feedback: Feedback, rule: AlertRule) -> tuple[AlertReason, ...]:
    """Which thresholds of ``rule`` the response breaks (none: no alert)."""
    reasons: list[AlertReason] = []
    if feedback.nps is not None and feedback.nps <= rule.nps_at_most:
        reasons.append(AlertReason.LOW_NPS)
    if feedback.csat is not None and feedback.csat <= rule.csat_at_most:
        reasons.append(AlertReason.LOW_CSAT)
    index = feedback.satisfaction_index
    if index is not None and index < rule.satisfaction_index_below:
        reasons.append(AlertReason.LOW_SATISFACTION_INDEX)
    return tuple(reasons)


def route(owner_id: str | None, open_alerts_by_frontline: Mapping[str, int]) -> str | None:
    """The customer's owner; else the region's frontline employee with the fewest open alerts (then by id)."""
    if owner_id is not None:
        return owner_id
    if not open_alerts_by_frontline:
        return None
    return min(open_alerts_by_frontline, key=lambda employee: (open_alerts_by_frontline[employee], employee))


def raise_alert(
    *,
    alert_id: str,
    customer_id: str | None,
    region: str,
    standard: ServiceStandard,
    reasons: tuple[AlertReason, ...],
    assignee_id: str | None,
    now: datetime,
    by: str,
    feedback_id: str | None = None,
    case_id: str | None = None,
) -> Alert:
    """A new open alert with its deadlines from the standard."""
    return Alert(
        id=alert_id,
        customer_id=customer_id,
        region=region,
        touchpoint=standard.touchpoint.value,
        feedback_id=feedback_id,
        case_id=case_id,
        reasons=reasons,
        state=AlertState.OPEN,
        assignee_id=assignee_id,
        raised_at=now,
        acknowledge_due_at=now + standard.acknowledge_within,
        resolve_due_at=now + standard.resolve_within,
        escalated_at=None,
        escalated_to=None,
        resolution=None,
        reply=None,
        history=(AlertStep(AlertAction.RAISED, now, by, ", ".join(reasons), assignee_id),),
        version=1,
    )


def _step(alert: Alert, step: AlertStep, **changes: object) -> Alert:
    return replace(alert, history=(*alert.history, step), version=alert.version + 1, **changes)  # type: ignore[arg-type]


def acknowledge(alert: Alert, *, by: str, now: datetime) -> Alert:
    """The assignee has seen it; the resolution clock keeps running."""
    if alert.state is not AlertState.OPEN:
        raise Conflict(f"only an open alert can be acknowledged; this one is {alert.state.value.lower()}")
    return _step(alert, AlertStep(AlertAction.ACKNOWLEDGED, now, by), state=AlertState.ACKNOWLEDGED)


def resolve(alert: Alert, *, by: str, now: datetime, resolution: str, reply: Reply) -> Alert:
    """Done: what was done, and what the customer was told."""
    if alert.state is AlertState.RESOLVED:
        raise Conflict("the alert is already resolved")
    step = AlertStep(AlertAction.RESOLVED, now, by, resolution)
    return _step(alert, step, state=AlertState.RESOLVED, resolution=resolution, reply=reply)


def reassign(alert: Alert, *, by: str, now: datetime, assignee_id: str, note: str | None) -> Alert:
    """Hand the alert to someone else; its deadlines stay."""
    if alert.state is AlertState.RESOLVED:
        raise Conflict("a resolved alert cannot be reassigned; reopen it first")
    if assignee_id == alert.assignee_id:
        raise Conflict("the alert is already assigned to that employee")
    step = AlertStep(AlertAction.REASSIGNED, now, by, note, assignee_id)
    return _step(alert, step, assignee_id=assignee_id)


def reopen(alert: Alert, *, by: str, now: datetime, note: str | None, standard: ServiceStandard) -> Alert:
    """The customer is still not happy: back to open with fresh deadlines."""
    if alert.state is not AlertState.RESOLVED:
        raise Conflict("only a resolved alert can be reopened")
    return _step(
        alert,
        AlertStep(AlertAction.REOPENED, now, by, note),
        state=AlertState.OPEN,
        acknowledge_due_at=now + standard.acknowledge_within,
        resolve_due_at=now + standard.resolve_within,
        resolution=None,
        reply=None,
        escalated_at=None,
        escalated_to=None,
    )


def escalation_step(*, manager_id: str | None, now: datetime) -> AlertStep:
    """The history entry of an escalation to the region's manager."""
    return AlertStep(AlertAction.ESCALATED, now, "system", "past due", manager_id)


def loop_status(alert: Alert | None) -> FeedbackStatus:
    """How far the loop a response started has come, as the customer is shown it."""
    if alert is None:
        return FeedbackStatus.RECEIVED
    return FeedbackStatus.RESOLVED if alert.state is AlertState.RESOLVED else FeedbackStatus.BEING_HANDLED
