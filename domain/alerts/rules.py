"""The rules of the closed loop: when an alert is raised, to whom, and how it may move on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from domain.alerts.models import (
    BREACH_REASONS,
    ActionPlan,
    Alert,
    AlertAction,
    AlertKind,
    AlertReason,
    AlertState,
    AlertStep,
    Handling,
    Reply,
    TacticalBreach,
)
from domain.errors import Conflict, InvalidInput
from domain.feedback.models import Feedback, FeedbackStatus
from domain.root_cause import RootCause
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
    nps: int | None = None,
) -> Alert:
    """A new open operational alert with its deadlines from the standard."""
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
        nps=nps,
    )


def raise_tactical(
    *,
    alert_id: str,
    region: str,
    standard: ServiceStandard,
    breach: TacticalBreach,
    assignee_id: str | None,
    now: datetime,
) -> Alert:
    """A new open tactical alert to the region's manager: a full window to resolve it, unless a plan says."""
    return Alert(
        id=alert_id,
        customer_id=None,
        region=region,
        touchpoint=standard.touchpoint.value,
        feedback_id=None,
        case_id=None,
        reasons=(BREACH_REASONS[breach.metric],),
        state=AlertState.OPEN,
        assignee_id=assignee_id,
        raised_at=now,
        acknowledge_due_at=now + standard.acknowledge_within,
        resolve_due_at=now + timedelta(days=breach.window_days),
        escalated_at=None,
        escalated_to=None,
        resolution=None,
        reply=None,
        history=(AlertStep(AlertAction.RAISED, now, "system", _breach_note(breach), assignee_id),),
        version=1,
        kind=AlertKind.TACTICAL,
        tactical=breach,
    )


def _breach_note(breach: TacticalBreach) -> str:
    side = "above" if breach.metric.at_most else "below"
    return (
        f"{breach.metric.value} {breach.figure:g} {side} its target {breach.target:g} over the "
        f"{breach.window_days} days to {breach.window_last.isoformat()}"
    )


def _step(alert: Alert, step: AlertStep, **changes: object) -> Alert:
    return replace(alert, history=(*alert.history, step), version=alert.version + 1, **changes)  # type: ignore[arg-type]


def acknowledge(alert: Alert, *, by: str, now: datetime) -> Alert:
    """The assignee has seen it; the resolution clock keeps running."""
    if alert.state is not AlertState.OPEN:
        raise Conflict(f"only an open alert can be acknowledged; this one is {alert.state.value.lower()}")
    return _step(alert, AlertStep(AlertAction.ACKNOWLEDGED, now, by), state=AlertState.ACKNOWLEDGED)


def resolve(
    alert: Alert,
    *,
    by: str,
    now: datetime,
    resolution: str,
    reply: Reply | None,
    root_cause: RootCause | None = None,
) -> Alert:
    """Done: what was done, what the customer was told and why it happened (a tactical alert has no customer
    to tell, and its cause is the manager's to give or not)."""
    if alert.state is AlertState.RESOLVED:
        raise Conflict("the alert is already resolved")
    if reply is None and alert.kind is AlertKind.OPERATIONAL:
        raise InvalidInput("say what the customer was told", field="reply")
    step = AlertStep(AlertAction.RESOLVED, now, by, resolution)
    return _step(
        alert, step, state=AlertState.RESOLVED, resolution=resolution, reply=reply, root_cause=root_cause
    )


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
        recovery=None,
        root_cause=None,
    )


# An action plan's due date may lie at most this far ahead.
LONGEST_PLAN = timedelta(days=180)


def plan(alert: Alert, *, by: str, now: datetime, text: str, due_at: datetime) -> Alert:
    """What will be done about a tactical alert and by when: the plan's due date is its new resolve date."""
    if alert.kind is not AlertKind.TACTICAL:
        raise InvalidInput("action plans are for tactical alerts", field="id")
    if alert.state is AlertState.RESOLVED:
        raise Conflict("a resolved alert needs no plan; reopen it first")
    if not text.strip():
        raise InvalidInput("say what will be done", field="text")
    if not now < due_at <= now + LONGEST_PLAN:
        raise InvalidInput("the due date must be after now and at most 180 days ahead", field="dueAt")
    action_plan = ActionPlan(text.strip(), due_at, now, by)
    note = f"{action_plan.text} (due {due_at.isoformat()})"
    return _step(
        alert,
        AlertStep(AlertAction.PLANNED, now, by, note),
        action_plan=action_plan,
        resolve_due_at=due_at,
    )


def clear(alert: Alert, *, now: datetime, note: str) -> Alert:
    """A tactical alert whose window is back within target: resolved by the system, unless it was already."""
    assert alert.tactical is not None
    step = AlertStep(AlertAction.CLEARED, now, "system", note)
    cleared = replace(alert.tactical, cleared_at=now)
    if alert.state is AlertState.RESOLVED:
        return _step(alert, step, tactical=cleared)
    return _step(alert, step, tactical=cleared, state=AlertState.RESOLVED, resolution=note)


def resolved_at(alert: Alert) -> datetime | None:
    """When a resolved alert was (last) resolved or cleared; None while it is not resolved."""
    if alert.state is not AlertState.RESOLVED:
        return None
    done = (AlertAction.RESOLVED, AlertAction.CLEARED)
    return next((step.at for step in reversed(alert.history) if step.action in done), None)


def handling_of(alert: Alert) -> Handling:
    """The alert's handling, from its history."""
    acknowledged = next(
        (s.at for s in alert.history if s.action in (AlertAction.ACKNOWLEDGED, AlertAction.RESOLVED)), None
    )
    return Handling(
        alert_id=alert.id,
        customer_id=alert.customer_id,
        region=alert.region,
        assignee_id=alert.assignee_id,
        raised_at=alert.raised_at,
        acknowledge_due_at=alert.acknowledge_due_at,
        resolve_due_at=alert.resolve_due_at,
        acknowledged_at=acknowledged,
        resolved_at=resolved_at(alert),
        reopened=any(s.action is AlertAction.REOPENED for s in alert.history),
        escalated=any(s.action is AlertAction.ESCALATED for s in alert.history),
        nps=alert.nps,
        recovery_nps=alert.recovery.nps if alert.recovery else None,
        recovered_at=alert.recovery.at if alert.recovery else None,
    )


def escalation_step(*, manager_id: str | None, now: datetime) -> AlertStep:
    """The history entry of an escalation to the region's manager."""
    return AlertStep(AlertAction.ESCALATED, now, "system", "past due", manager_id)


def loop_status(alert: Alert | None) -> FeedbackStatus:
    """How far the loop a response started has come, as the customer is shown it."""
    if alert is None:
        return FeedbackStatus.RECEIVED
    return FeedbackStatus.RESOLVED if alert.state is AlertState.RESOLVED else FeedbackStatus.BEING_HANDLED
