"""Closed-loop operations on stored alerts: routing, the lifecycle steps and the escalation sweep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.alerts import rules
from domain.alerts.models import Alert, AlertKind, Reply
from domain.customer_records import read_version
from domain.employees.models import EmployeeRole
from domain.errors import InvalidInput
from domain.feedback.models import Touchpoint
from domain.lists.models import ListKind
from domain.lists.service import stored_time
from domain.repositories import Repositories
from domain.root_cause import record_cause
from domain.store import Session, UnitOfWork


async def accountable_employee(repos: Repositories, *, owner_id: str | None, region: str) -> str | None:
    """Who a new alert goes to: the customer's owner, else the region's least busy frontline employee."""
    if owner_id is not None:
        return rules.route(owner_id, {})
    frontline = await repos.employees.in_region(region, EmployeeRole.FRONTLINE)
    counts = await repos.alerts.open_counts([e.id for e in frontline])
    return rules.route(None, counts)


async def _load(repos: Repositories, alert_id: str, version: int) -> Alert:
    return await read_version(repos.alerts, alert_id, version, noun="alert")


async def _store(repos: Repositories, uow: UnitOfWork, changed: Alert) -> Alert:
    """Save a changed alert with its handling's entry in one transaction."""

    async def work(session: Session) -> None:
        await repos.alerts.save(changed, session=session)

    await uow.run(work)
    return changed


async def acknowledge(
    repos: Repositories, uow: UnitOfWork, *, alert_id: str, version: int, by: str, now: datetime
) -> Alert:
    """Acknowledge an open alert."""
    changed = rules.acknowledge(await _load(repos, alert_id, version), by=by, now=now)
    return await _store(repos, uow, changed)


@dataclass(frozen=True, slots=True)
class Resolution:
    """What was done, the reply sent to the customer with its channel (none for a tactical alert), and the
    root cause (a ``ROOT_CAUSE`` code) with what happened (required for an operational alert)."""

    summary: str
    reply: str | None = None
    reply_channel: str | None = None
    root_cause: str | None = None
    root_cause_note: str | None = None


async def resolve(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    alert_id: str,
    version: int,
    by: str,
    now: datetime,
    resolution: Resolution,
) -> Alert:
    """Resolve an alert, recording the reply the customer got and why it happened (``VALIDATION`` for a
    missing, unknown or retired root cause of an operational alert)."""
    if not resolution.summary.strip():
        raise InvalidInput("say what was done", field="resolution")
    reply = None
    if resolution.reply is not None and resolution.reply.strip():
        if not resolution.reply_channel:
            raise InvalidInput("say how the reply was sent", field="replyChannel")
        reply = Reply(resolution.reply.strip(), resolution.reply_channel, now)
    alert = await _load(repos, alert_id, version)
    cause = None
    if alert.kind is AlertKind.OPERATIONAL or resolution.root_cause:
        causes = await repos.lists.get(ListKind.ROOT_CAUSE)
        cause = record_cause(
            causes, code=resolution.root_cause, note=resolution.root_cause_note, at=stored_time(now), by=by
        )
    changed = rules.resolve(
        alert, by=by, now=now, resolution=resolution.summary.strip(), reply=reply, root_cause=cause
    )
    return await _store(repos, uow, changed)


async def reassign(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    alert_id: str,
    version: int,
    by: str,
    now: datetime,
    assignee_id: str,
    note: str | None,
) -> Alert:
    """Hand an alert to a frontline employee or manager of its region."""
    alert = await _load(repos, alert_id, version)
    employee = (await repos.employees.get_many([assignee_id])).get(assignee_id)
    if employee is None or alert.region not in employee.regions:
        raise InvalidInput("the new assignee must be an employee of the alert's region", field="assigneeId")
    changed = rules.reassign(alert, by=by, now=now, assignee_id=assignee_id, note=note)
    return await _store(repos, uow, changed)


async def plan(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    alert_id: str,
    version: int,
    by: str,
    now: datetime,
    text: str,
    due_at: datetime,
) -> Alert:
    """Set or change a tactical alert's action plan; its due date becomes the alert's resolve date.

    Setting the plan the alert has already (a retry of a change that went through) changes nothing and
    answers the alert as it is, whatever version it names.
    """
    current = (await repos.alerts.get_many([alert_id])).get(alert_id)
    plan_now = current.action_plan if current is not None else None
    if current is not None and plan_now and (plan_now.text, plan_now.due_at) == (text.strip(), due_at):
        return current
    changed = rules.plan(await _load(repos, alert_id, version), by=by, now=now, text=text, due_at=due_at)
    return await _store(repos, uow, changed)


async def reopen(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    alert_id: str,
    version: int,
    by: str,
    now: datetime,
    note: str | None,
) -> Alert:
    """Reopen a resolved alert with fresh deadlines from the current standard."""
    alert = await _load(repos, alert_id, version)
    standard = await repos.standards.for_touchpoint(alert.region, Touchpoint(alert.touchpoint))
    changed = rules.reopen(alert, by=by, now=now, note=note, standard=standard)
    return await _store(repos, uow, changed)


async def escalate_overdue(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    now: datetime,
    on_escalated: Callable[[Alert], None] | None = None,
) -> int:
    """Escalate every overdue alert to its region's manager (a tactical alert, which is the manager's own,
    to the manager's manager); safe to run in many processes at once.

    Each alert is escalated by a conditional update, so whichever sweep gets there first does it and
    the others skip it: exactly once per alert.
    """
    managers: dict[str, str | None] = {}
    escalated = 0
    for alert in await repos.alerts.overdue(now):
        if alert.region not in managers:
            found = await repos.employees.in_region(alert.region, EmployeeRole.MANAGER)
            managers[alert.region] = found[0].id if found else None
        target = managers[alert.region]
        if alert.kind is AlertKind.TACTICAL and alert.assignee_id is not None:
            assignee = (await repos.employees.get_many([alert.assignee_id])).get(alert.assignee_id)
            target = (assignee.manager_id if assignee else None) or target
        if await _escalate(repos, uow, alert, manager_id=target, now=now):
            escalated += 1
            if on_escalated is not None:
                on_escalated(alert)
    return escalated


async def _escalate(
    repos: Repositories, uow: UnitOfWork, alert: Alert, *, manager_id: str | None, now: datetime
) -> bool:
    """Escalate one alert with its handling's entry in one transaction; false when another sweep did."""

    async def work(session: Session) -> bool:
        return await repos.alerts.escalate(alert, manager_id=manager_id, now=now, session=session)

    return await uow.run(work)
