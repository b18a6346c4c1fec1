"""Cases from every channel: opening one (a complaint raises an alert at once) and moving it along."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from domain.alerts import rules
from domain.alerts.models import Alert, AlertReason
from domain.alerts.service import accountable_employee
from domain.crm.models import Case, CaseChannel, CaseKind, CaseStatus, CustomerNotice, Severity, StatusChange
from domain.customer_records import read_version
from domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from domain.feedback.models import Touchpoint
from domain.ids import new_id
from domain.lists.models import ListKind, ManagedList
from domain.lists.service import stored_time
from domain.repositories import Repositories
from domain.root_cause import record_cause
from domain.store import Session, UnitOfWork

NEXT_STATUSES: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class NewCase:
    """A case as staff log it."""

    customer_id: str
    kind: CaseKind
    channel: CaseChannel
    category: str
    severity: Severity
    subject: str
    touchpoint: Touchpoint = Touchpoint.SUPPORT_CALL


@dataclass(frozen=True, slots=True)
class CaseChange:
    """What an update changes; omitted parts stay."""

    case_id: str
    version: int
    status: CaseStatus | None = None
    assignee_id: str | None = None
    note: str | None = None
    resolution: str | None = None
    customer_notified_by: str | None = None
    category: str | None = None
    root_cause: str | None = None  # a ROOT_CAUSE code: required when a complaint is resolved or closed
    root_cause_note: str | None = None


def _check_new(case: NewCase, categories: ManagedList) -> list[FieldError]:
    errors = []
    if not 1 <= len(case.subject.strip()) <= 200:
        errors.append(FieldError("subject", "INVALID", "must be 1 to 200 characters"))
    if refusal := categories.refusal("category", case.category):
        errors.append(refusal)
    return errors


async def open_case(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    new: NewCase,
    by: str,
    now: datetime,
    make_id: Callable[[], str] = new_id,
) -> tuple[Case, Alert | None]:
    """Store a case; a complaint raises its alert in the same transaction."""
    if errors := _check_new(new, await repos.lists.get(ListKind.CASE_CATEGORY)):
        raise ValidationFailed(errors)
    customer = (await repos.customers.get_many([new.customer_id])).get(new.customer_id)
    if customer is None:
        raise NotFound("no such customer", field="customerId")
    standard = await repos.standards.for_touchpoint(customer.region, new.touchpoint)
    assignee = await accountable_employee(repos, owner_id=customer.owner_id, region=customer.region)
    case = Case(
        id=make_id(),
        customer_id=customer.id,
        region=customer.region,
        kind=new.kind,
        channel=new.channel,
        category=new.category,
        severity=new.severity,
        status=CaseStatus.OPEN,
        subject=new.subject.strip(),
        assignee_id=assignee,
        opened_at=now,
        due_at=now + standard.resolve_within,
        history=(StatusChange(CaseStatus.OPEN, now, by, None),),
        resolution=None,
        customer_notified=None,
        version=1,
    )
    alert = None
    if new.kind is CaseKind.COMPLAINT:
        alert = rules.raise_alert(
            alert_id=make_id(),
            customer_id=customer.id,
            region=customer.region,
            standard=standard,
            reasons=(AlertReason.COMPLAINT,),
            assignee_id=assignee,
            now=now,
            by=by,
            case_id=case.id,
        )

    async def write(session: Session) -> None:
        await repos.cases.insert(case, session=session)
        if alert is not None:
            await repos.alerts.insert(alert, session=session)

    # A complaint and its alert are stored together or not at all.
    await uow.run(write)
    return case, alert


async def update_case(repos: Repositories, *, change: CaseChange, by: str, now: datetime) -> Case:
    """Move a case along: status (with history), assignee, resolution, how the customer was told, category,
    root cause (which a complaint needs when it is resolved or closed)."""
    case = await read_version(repos.cases, change.case_id, change.version, noun="case")
    updated = case
    if change.category is not None and change.category != case.category:
        categories = await repos.lists.get(ListKind.CASE_CATEGORY)
        if refusal := categories.refusal("category", change.category):
            raise ValidationFailed([refusal])
        updated = replace(updated, category=change.category)
    if change.status is not None and change.status is not case.status:
        if change.status not in NEXT_STATUSES[case.status]:
            raise Conflict(f"a {case.status.value} case cannot become {change.status.value}")
        if change.status is CaseStatus.RESOLVED and not (change.resolution or case.resolution):
            raise ValidationFailed([FieldError("resolution", "REQUIRED", "say how the case was resolved")])
        step = StatusChange(change.status, now, by, change.note)
        updated = replace(updated, status=change.status, history=(*updated.history, step))
    ending = change.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED) and change.status is not case.status
    if change.root_cause or (ending and case.kind is CaseKind.COMPLAINT and case.root_cause is None):
        causes = await repos.lists.get(ListKind.ROOT_CAUSE)
        cause = record_cause(
            causes, code=change.root_cause, note=change.root_cause_note, at=stored_time(now), by=by
        )
        updated = replace(updated, root_cause=cause)
    if change.assignee_id is not None:
        updated = replace(updated, assignee_id=change.assignee_id)
    if change.resolution is not None:
        updated = replace(updated, resolution=change.resolution.strip())
    if change.customer_notified_by is not None:
        updated = replace(updated, customer_notified=CustomerNotice(now, change.customer_notified_by))
    updated = replace(updated, version=case.version + 1)
    await repos.cases.save_version(updated, read_version=case.version)
    return updated
