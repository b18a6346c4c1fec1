"""The alert type, its history and the reply the customer got."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.alerts import models
from resolvers import references
from resolvers.context import Info
from resolvers.employees.types import Employee
from resolvers.enums import AlertAction, AlertKind, AlertReason, AlertState
from resolvers.pagination import Connection
from resolvers.references import CustomerRecord
from resolvers.root_cause import RootCause
from resolvers.tactical.types import ActionPlan, TacticalBreach


@strawberry.type(description="What the customer was told, and how.")
class Reply:
    message: str = strawberry.field(description="The reply's text.")
    channel: str = strawberry.field(description="How it was sent, e.g. EMAIL, SMS, PHONE.")
    at: datetime = strawberry.field(description="When it was sent.")

    @classmethod
    def of(cls, reply: models.Reply | None) -> Reply | None:
        return cls(message=reply.message, channel=reply.channel, at=reply.at) if reply else None


@strawberry.type(description="One step of an alert's life: who did what, and when.")
class AlertStep:
    action: AlertAction = strawberry.field(description="What happened.")
    at: datetime = strawberry.field(description="When.")
    by: str = strawberry.field(description="Who: an employee id, a customer id, or system.")
    note: str | None = strawberry.field(description="What they noted.")
    assignee_id: strawberry.Private[str | None]

    @strawberry.field(description="The employee the alert went to in this step (raise, reassign, escalate).")
    async def assignee(self, info: Info) -> Employee | None:
        return await references.employee(info, self.assignee_id)


@strawberry.type(
    description="A bad experience the accountable employee must acknowledge and resolve in time "
    "(operational), or a touchpoint below its standard over a window of days, for the region's manager "
    "(tactical)."
)
class Alert(CustomerRecord):
    kind: AlertKind = strawberry.field(description="Operational or tactical.")
    region: str = strawberry.field(description="Region of the customer (of the touchpoint, when tactical).")
    touchpoint: str = strawberry.field(description="Touchpoint whose standard applies.")
    reasons: list[AlertReason] = strawberry.field(description="Which thresholds were broken.")
    state: AlertState = strawberry.field(description="Open, acknowledged or resolved.")
    raised_at: datetime = strawberry.field(description="When the alert was raised.")
    acknowledge_due_at: datetime = strawberry.field(description="When it must be acknowledged by.")
    resolve_due_at: datetime = strawberry.field(description="When it must be resolved by.")
    due_at: datetime = strawberry.field(description="The next deadline: acknowledgement, then resolution.")
    escalated_at: datetime | None = strawberry.field(description="When it was escalated, past due.")
    resolution: str | None = strawberry.field(description="What was done, once resolved.")
    reply: Reply | None = strawberry.field(description="What the customer was told, once resolved.")
    history: list[AlertStep] = strawberry.field(description="Every step, oldest first.")
    version: int = strawberry.field(description="Pass it back with a change; a stale one is a conflict.")
    tactical: TacticalBreach | None = strawberry.field(
        description="The breach a tactical alert is about; null for an operational one."
    )
    action_plan: ActionPlan | None = strawberry.field(
        description="What will be done about a tactical alert, and by when."
    )
    root_cause: RootCause | None = strawberry.field(
        description="Why it happened, recorded with the resolution."
    )
    assignee_id: strawberry.Private[str | None]
    escalated_to_id: strawberry.Private[str | None]
    domain: strawberry.Private[models.Alert]

    @strawberry.field(description="The employee accountable for the alert.")
    async def assignee(self, info: Info) -> Employee | None:
        return await references.employee(info, self.assignee_id)

    @strawberry.field(description="Whether the next deadline has passed.")
    def overdue(self, info: Info) -> bool:
        return self.domain.is_overdue(info.context.now)

    @strawberry.field(description="The manager the alert was escalated to.")
    async def escalated_to(self, info: Info) -> Employee | None:
        return await references.employee(info, self.escalated_to_id)

    @classmethod
    def of(cls, alert: models.Alert) -> Alert:
        return cls(
            record_id=alert.id,
            customer_id=alert.customer_id,
            kind=alert.kind,
            region=alert.region,
            touchpoint=alert.touchpoint,
            reasons=list(alert.reasons),
            state=alert.state,
            raised_at=alert.raised_at,
            acknowledge_due_at=alert.acknowledge_due_at,
            resolve_due_at=alert.resolve_due_at,
            due_at=alert.due_at,
            escalated_at=alert.escalated_at,
            resolution=alert.resolution,
            reply=Reply.of(alert.reply),
            history=[
                AlertStep(action=s.action, at=s.at, by=s.by, note=s.note, assignee_id=s.assignee_id)
                for s in alert.history
            ],
            version=alert.version,
            tactical=TacticalBreach.of(alert.tactical),
            action_plan=ActionPlan.of(alert.action_plan),
            root_cause=RootCause.of(alert.root_cause),
            assignee_id=alert.assignee_id,
            escalated_to_id=alert.escalated_to,
            domain=alert,
        )


@strawberry.type(description="A page of alerts.")
class AlertConnection(Connection[Alert]):
    pass
