"""Opening and updating cases from every channel."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.crm.models import Case as DomainCase
from domain.crm.service import CaseChange, NewCase, open_case, update_case
from domain.errors import DomainError
from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.crm.types import Case
from resolvers.enums import CaseChannel, CaseKind, CaseStatus, Severity, Touchpoint
from resolvers.node import expect_global_id
from resolvers.results import (
    ConflictError,
    IdempotencyConflictError,
    NotFoundError,
    ValidationError,
    attempt,
    error_of,
)


@strawberry.input(description="A new case as staff log it.")
class OpenCaseInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer.")
    kind: CaseKind = strawberry.field(
        description="Complaint, request or question; a complaint raises an alert."
    )
    channel: CaseChannel = strawberry.field(description="Where it was raised.")
    category: str = strawberry.field(
        description="What it is about: an active CASE_CATEGORY code of managedList, e.g. billing."
    )
    severity: Severity = strawberry.field(description="How much it hurts the customer.")
    subject: str = strawberry.field(description="One-line subject.")
    touchpoint: Touchpoint = strawberry.field(
        default=Touchpoint.SUPPORT_CALL, description="Touchpoint whose service standard sets the deadlines."
    )


@strawberry.input(description="What to change on a case; omitted fields stay.")
class UpdateCaseInput:
    id: strawberry.ID = strawberry.field(description="Global id of the case.")
    version: int = strawberry.field(description="The version you read; a stale one is a conflict.")
    status: CaseStatus | None = strawberry.field(
        default=None, description="New status (kept in the history)."
    )
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="New assignee (employee).")
    note: str | None = strawberry.field(default=None, description="Note for the history.")
    resolution: str | None = strawberry.field(default=None, description="How it was resolved.")
    customer_notified_by: str | None = strawberry.field(
        default=None, description="How the customer was told about the outcome, e.g. EMAIL."
    )
    category: str | None = strawberry.field(
        default=None, description="New category: an active CASE_CATEGORY code of managedList."
    )
    root_cause: str | None = strawberry.field(
        default=None,
        description="Why it happened: an active ROOT_CAUSE code of managedList; required when a complaint is "
        "resolved or closed.",
    )
    root_cause_note: str | None = strawberry.field(
        default=None, description="What happened, with the root cause (1 to 1000 characters)."
    )


@strawberry.type(description="The case as stored, with the alert a complaint raised.")
class CaseSaved:
    case: Case = strawberry.field(description="The case.")
    alert: Alert | None = strawberry.field(description="The alert a complaint raised when opened.")


CaseResult = Annotated[
    CaseSaved | ValidationError | NotFoundError | ConflictError | IdempotencyConflictError,
    strawberry.union("CaseResult", description="The stored case, or why it was not stored."),
]


@strawberry.type
class CaseMutations:
    @strawberry.mutation(description="Open a case; a complaint raises an alert in the same write.")
    async def open_case(
        self, info: Info, input: Annotated[OpenCaseInput, strawberry.argument(description="The case.")]
    ) -> CaseResult:
        ctx = info.context
        try:
            new = NewCase(
                customer_id=expect_global_id(input.customer_id, "Customer"),
                kind=input.kind,
                channel=input.channel,
                category=input.category,
                severity=input.severity,
                subject=input.subject,
                touchpoint=input.touchpoint,
            )
            case, alert = await open_case(ctx.repos, ctx.uow, new=new, by=ctx.principal.subject, now=ctx.now)
        except DomainError as error:
            return error_of(error)
        return CaseSaved(case=Case.of(case), alert=Alert.of(alert) if alert else None)

    @strawberry.mutation(
        description="Update a case: status, assignee, resolution, how the customer was told."
    )
    async def update_case(
        self, info: Info, input: Annotated[UpdateCaseInput, strawberry.argument(description="The change.")]
    ) -> CaseResult:
        outcome = await attempt(_update(info, input))
        return CaseSaved(case=Case.of(outcome), alert=None) if isinstance(outcome, DomainCase) else outcome


async def _update(info: Info, input: UpdateCaseInput) -> DomainCase:
    ctx = info.context
    change = CaseChange(
        case_id=expect_global_id(input.id, "Case"),
        version=input.version,
        status=input.status,
        assignee_id=expect_global_id(input.assignee_id, "Employee") if input.assignee_id else None,
        note=input.note,
        resolution=input.resolution,
        customer_notified_by=input.customer_notified_by,
        category=input.category,
        root_cause=input.root_cause,
        root_cause_note=input.root_cause_note,
    )
    return await update_case(ctx.repos, change=change, by=ctx.principal.subject, now=ctx.now)
