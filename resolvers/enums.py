"""Domain enums exposed to GraphQL, each registered once here and re-exported for the types to use."""

from __future__ import annotations

from enum import EnumMeta

import strawberry

from auth.policy import Access
from auth.principal import Role
from domain.aggregates.complaints import ComplaintAxis
from domain.aggregates.groups import CustomerAxis
from domain.aggregates.periods import Interval
from domain.aggregates.rollups import Axis
from domain.alerts.models import AlertAction, AlertReason, AlertState
from domain.crm.models import (
    CaseChannel,
    CaseKind,
    CaseStatus,
    Direction,
    InteractionKind,
    OpportunityStage,
    SalesChannel,
    Severity,
)
from domain.customers.models import CustomerStatus, Segment, Tier
from domain.employees.models import EmployeeRole
from domain.errors import ErrorCode
from domain.feedback.models import FeedbackChannel, FeedbackStatus, Touchpoint
from domain.timeline import TimelineKind

_DESCRIPTIONS: dict[EnumMeta, str] = {
    Segment: "Commercial segment of a customer.",
    Tier: "Loyalty tier of a customer.",
    CustomerStatus: "Whether a customer is still active.",
    EmployeeRole: "The job an employee does.",
    SalesChannel: "Where a purchase was made.",
    InteractionKind: "How staff and customer were in touch.",
    Direction: "Who started a contact.",
    CaseKind: "What the customer came with.",
    CaseChannel: "Where a case was raised.",
    Severity: "How much a case hurts the customer.",
    CaseStatus: "Where a case is in its handling.",
    OpportunityStage: "Sales pipeline stage.",
    FeedbackChannel: "Where feedback was given.",
    Touchpoint: "The moment of the customer journey feedback is about.",
    TimelineKind: "Kinds of record on a customer's timeline.",
    Role: "The role a token carries.",
    Access: "How a field is shown to the caller: full, masked, hidden (null) or denied (FORBIDDEN).",
    AlertState: "Where an alert is in its handling.",
    AlertReason: "Why an alert was raised.",
    AlertAction: "A step in an alert's history.",
    ErrorCode: "Why a mutation refused a request (errors in `errors` carry their code in extensions.code).",
    FeedbackStatus: "What the customer sees of the loop its feedback started.",
    Axis: "What feedback aggregates can be grouped by, besides time.",
    ComplaintAxis: "What complaints are counted by.",
    CustomerAxis: "What customer aggregates (revenue at risk, churn) are grouped by.",
    Interval: "The length of a time bucket (weeks are ISO weeks, Monday to Sunday).",
}

# The API's names for grouping axes predate the domain's word for them; clients rely on these names.
_NAMES: dict[EnumMeta, str] = {
    Axis: "AggregateDimension",
    ComplaintAxis: "ComplaintDimension",
    CustomerAxis: "CustomerDimension",
}

for _enum, _description in _DESCRIPTIONS.items():
    strawberry.enum(_enum, name=_NAMES.get(_enum), description=_description)

__all__ = [
    "Access",
    "AlertAction",
    "AlertReason",
    "AlertState",
    "Axis",
    "CaseChannel",
    "CaseKind",
    "CaseStatus",
    "ComplaintAxis",
    "CustomerAxis",
    "CustomerStatus",
    "Direction",
    "EmployeeRole",
    "ErrorCode",
    "FeedbackChannel",
    "FeedbackStatus",
    "InteractionKind",
    "Interval",
    "OpportunityStage",
    "Role",
    "SalesChannel",
    "Segment",
    "Severity",
    "Tier",
    "TimelineKind",
    "Touchpoint",
]
