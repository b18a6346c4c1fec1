"""Moving alerts along: acknowledge, resolve with a reply, reassign, reopen."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated

import strawberry

from domain.alerts import service
from domain.alerts.models import Alert as DomainAlert
from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.node import expect_global_id
from resolvers.results import (
    ConflictError,
    IdempotencyConflictError,
    NotFoundError,
    ValidationError,
    attempt,
)


@strawberry.type(description="The alert after the change.")
class AlertChanged:
    alert: Alert = strawberry.field(description="The alert as stored now.")


AlertResult = Annotated[
    AlertChanged | ValidationError | NotFoundError | ConflictError | IdempotencyConflictError,
    strawberry.union("AlertResult", description="The changed alert, or why it was not changed."),
]

AlertIdArg = Annotated[strawberry.ID, strawberry.argument(description="Global id of the alert.")]
VersionArg = Annotated[
    int, strawberry.argument(description="The version you read; a stale one is a conflict.")
]
NoteArg = Annotated[str | None, strawberry.argument(description="Why, for the history.")]


@strawberry.input(description="How an alert was resolved and what the customer was told.")
class ResolveAlertInput:
    resolution: str = strawberry.field(description="What was done.")
    reply: str | None = strawberry.field(
        default=None, description="The reply sent to the customer (required for an operational alert)."
    )
    reply_channel: str | None = strawberry.field(
        default=None, description="How the reply was sent, e.g. EMAIL, SMS, PHONE."
    )
    root_cause: str | None = strawberry.field(
        default=None,
        description="Why it happened: an active ROOT_CAUSE code of managedList (required for an operational "
        "alert).",
    )
    root_cause_note: str | None = strawberry.field(
        default=None, description="What happened, with the root cause (1 to 1000 characters)."
    )


@strawberry.input(description="What will be done about a tactical alert, and by when.")
class ActionPlanInput:
    text: str = strawberry.field(description="The plan.")
    due_at: datetime = strawberry.field(
        description="When it will be done (after now, at most 180 days ahead): the alert's new resolve date."
    )


async def _changed(work: Awaitable[DomainAlert]) -> AlertResult:
    outcome = await attempt(work)
    return AlertChanged(alert=Alert.of(outcome)) if isinstance(outcome, DomainAlert) else outcome


@strawberry.type
class AlertMutations:
    @strawberry.mutation(description="Acknowledge an open alert of your regions or assigned to you.")
    async def acknowledge_alert(self, info: Info, id: AlertIdArg, version: VersionArg) -> AlertResult:
        ctx = info.context
        return await _changed(
            service.acknowledge(
                ctx.repos,
                ctx.uow,
                alert_id=expect_global_id(id, "Alert"),
                version=version,
                by=ctx.principal.subject,
                now=ctx.now,
            )
        )

    @strawberry.mutation(description="Resolve an alert: what was done and the reply sent to the customer.")
    async def resolve_alert(
        self,
        info: Info,
        id: AlertIdArg,
        version: VersionArg,
        input: Annotated[ResolveAlertInput, strawberry.argument(description="The resolution.")],
    ) -> AlertResult:
        ctx = info.context
        resolution = service.Resolution(
            input.resolution, input.reply, input.reply_channel, input.root_cause, input.root_cause_note
        )
        return await _changed(
            service.resolve(
                ctx.repos,
                ctx.uow,
                alert_id=expect_global_id(id, "Alert"),
                version=version,
                by=ctx.principal.subject,
                now=ctx.now,
                resolution=resolution,
            )
        )

    @strawberry.mutation(description="Hand an alert to another employee of its region (managers).")
    async def reassign_alert(
        self,
        info: Info,
        id: AlertIdArg,
        version: VersionArg,
        assignee_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the employee.")],
        note: NoteArg = None,
    ) -> AlertResult:
        ctx = info.context
        return await _changed(
            service.reassign(
                ctx.repos,
                ctx.uow,
                alert_id=expect_global_id(id, "Alert"),
                version=version,
                by=ctx.principal.subject,
                now=ctx.now,
                assignee_id=expect_global_id(assignee_id, "Employee"),
                note=note,
            )
        )

    @strawberry.mutation(
        description="Set or change a tactical alert's action plan; its due date becomes the resolve date."
    )
    async def set_alert_action_plan(
        self,
        info: Info,
        id: AlertIdArg,
        version: VersionArg,
        input: Annotated[ActionPlanInput, strawberry.argument(description="The plan.")],
    ) -> AlertResult:
        ctx = info.context
        return await _changed(
            service.plan(
                ctx.repos,
                ctx.uow,
                alert_id=expect_global_id(id, "Alert"),
                version=version,
                by=ctx.principal.subject,
                now=ctx.now,
                text=input.text,
                due_at=input.due_at,
            )
        )

    @strawberry.mutation(description="Reopen a resolved alert with fresh deadlines.")
    async def reopen_alert(
        self, info: Info, id: AlertIdArg, version: VersionArg, note: NoteArg = None
    ) -> AlertResult:
        ctx = info.context
        return await _changed(
            service.reopen(
                ctx.repos,
                ctx.uow,
                alert_id=expect_global_id(id, "Alert"),
                version=version,
                by=ctx.principal.subject,
                now=ctx.now,
                note=note,
            )
        )
