"""Domain enums exposed to GraphQL, each registered once here and re-exported for the types to use.

The domain's enums stay plain Python enums: their GraphQL descriptions, per type and per value, are written
here and attached when the enum is registered (``describe_enum``), which refuses an undescribed value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from auth.policy import Access
from auth.principal import Role
from domain.aggregates.complaints import ComplaintAxis
from domain.aggregates.experience_value import ValueAxis
from domain.aggregates.groups import CustomerAxis
from domain.aggregates.loop_performance import LoopGroup
from domain.aggregates.periods import Interval
from domain.aggregates.recurring import IssueAxis
from domain.aggregates.rollups import Axis
from domain.alerts.models import AlertAction, AlertKind, AlertReason, AlertState
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
from domain.lists.models import ListKind
from domain.standards.models import TargetMetric
from domain.standing.models import NextBestAction, ReasonCode
from domain.standing.worklist import Owner
from domain.tactical.models import Verdict
from domain.timeline import TimelineKind
from domain.value.models import NpsCategory, ValueWindow

E = TypeVar("E", bound=type[Enum])


def describe_enum(enum: E, description: str, values: Mapping[Any, str], *, name: str | None = None) -> E:
    """Registers ``enum`` with GraphQL under ``name``, with its description and one for every value.

    ``values`` maps each member to its description; a member without one (or a key that is no member) is a
    programming error raised at import, so the schema cannot be built with an undescribed value.
    """
    members = list(enum)
    if missing := [m.name for m in members if m not in values or not values[m]]:
        raise ValueError(f"{enum.__name__}: values without a description: {missing}")
    if extra := [k for k in values if not any(k is m for m in members)]:
        raise ValueError(f"{enum.__name__}: descriptions of values it does not have: {extra}")
    strawberry.enum(enum, name=name, description=description)
    definition: StrawberryEnumDefinition = enum.__strawberry_definition__  # type: ignore[attr-defined]
    by_name = {m.name: values[m] for m in members}
    definition.values = [dataclasses.replace(v, description=by_name[v.name]) for v in definition.values]
    return enum


describe_enum(
    Segment,
    "Commercial segment of a customer.",
    {
        Segment.MASS: "Private customer of the mass market: standard products and service.",
        Segment.AFFLUENT: "Private customer with high income or assets, served with premium products.",
        Segment.SMALL_BUSINESS: "Sole trader or small company buying as a business.",
        Segment.CORPORATE: "Large company with a negotiated relationship.",
    },
)
describe_enum(
    Tier,
    "Loyalty tier of a customer.",
    {
        Tier.BRONZE: "Entry tier, where every customer starts.",
        Tier.SILVER: "Second tier.",
        Tier.GOLD: "Third tier.",
        Tier.PLATINUM: "Highest tier, for the most loyal customers.",
    },
)
describe_enum(
    CustomerStatus,
    "Whether a customer is still active.",
    {
        CustomerStatus.ACTIVE: "Still a customer.",
        CustomerStatus.CHURNED: "Has left: counted as churned from the day of leaving.",
    },
)
describe_enum(
    EmployeeRole,
    "The job an employee does.",
    {
        EmployeeRole.FRONTLINE: "Serves customers of their regions and handles their alerts and cases.",
        EmployeeRole.MANAGER: "Leads the frontline of their regions; overdue alerts escalate to them.",
        EmployeeRole.EXECUTIVE: "Member of the board: sees company-wide figures, no customer records.",
    },
)
describe_enum(
    SalesChannel,
    "Where a purchase was made.",
    {
        SalesChannel.STORE: "In a physical store.",
        SalesChannel.ONLINE: "On the web shop.",
        SalesChannel.APP: "In the mobile app.",
        SalesChannel.PHONE: "Ordered by telephone.",
    },
)
describe_enum(
    InteractionKind,
    "How staff and customer were in touch.",
    {
        InteractionKind.CALL: "A telephone call.",
        InteractionKind.EMAIL: "An e-mail.",
        InteractionKind.MEETING: "A scheduled meeting, in person or by video.",
        InteractionKind.CHAT: "A chat conversation on the web site or in the app.",
        InteractionKind.VISIT: "The customer came to a store or branch.",
        InteractionKind.SOCIAL: "A message on a social network.",
    },
)
describe_enum(
    Direction,
    "Who started a contact.",
    {
        Direction.INBOUND: "The customer contacted us.",
        Direction.OUTBOUND: "We contacted the customer.",
    },
)
describe_enum(
    CaseKind,
    "What the customer came with.",
    {
        CaseKind.COMPLAINT: "Something went wrong: always raises an alert, and counts in `complaints`.",
        CaseKind.REQUEST: "The customer asks for something to be done.",
        CaseKind.QUESTION: "The customer asks for information.",
    },
)
describe_enum(
    CaseChannel,
    "Where a case was raised.",
    {
        CaseChannel.IN_PERSON: "Face to face, in a store or branch.",
        CaseChannel.PHONE: "By telephone.",
        CaseChannel.MAIL: "By letter.",
        CaseChannel.EMAIL: "By e-mail.",
        CaseChannel.WEB: "Through the web site.",
        CaseChannel.SOCIAL: "On a social network.",
        CaseChannel.APP: "In the mobile app.",
    },
)
describe_enum(
    Severity,
    "How much a case hurts the customer.",
    {
        Severity.LOW: "An inconvenience.",
        Severity.MEDIUM: "The customer is held up but has a way round it.",
        Severity.HIGH: "The customer cannot do something that matters to them.",
        Severity.CRITICAL: "Serious harm to the customer (money, safety or legal): handle first.",
    },
)
describe_enum(
    CaseStatus,
    "Where a case is in its handling.",
    {
        CaseStatus.OPEN: "Raised, nobody working on it yet.",
        CaseStatus.IN_PROGRESS: "Someone is working on it.",
        CaseStatus.RESOLVED: "Handled, with a resolution; may go back to IN_PROGRESS if it was not.",
        CaseStatus.CLOSED: "Finished for good: no further change.",
    },
)
describe_enum(
    OpportunityStage,
    "Sales pipeline stage.",
    {
        OpportunityStage.PROSPECTING: "A possible sale spotted, not yet confirmed with the customer.",
        OpportunityStage.QUALIFICATION: "The customer's need and budget are being confirmed.",
        OpportunityStage.PROPOSAL: "An offer was made.",
        OpportunityStage.NEGOTIATION: "Terms are being agreed.",
        OpportunityStage.WON: "The customer bought: closed.",
        OpportunityStage.LOST: "The customer did not buy: closed.",
    },
)
describe_enum(
    FeedbackChannel,
    "Where feedback was given.",
    {
        FeedbackChannel.APP: "In the mobile app.",
        FeedbackChannel.WEB: "On the web site.",
        FeedbackChannel.POS: "On the payment terminal at the till.",
        FeedbackChannel.KIOSK: "On a feedback kiosk in a store.",
        FeedbackChannel.PHONE: "Taken by staff during a call.",
        FeedbackChannel.EMAIL: "Answering an e-mail survey.",
        FeedbackChannel.SMS: "Answering a text-message survey.",
        FeedbackChannel.IN_PERSON: "Taken by staff face to face.",
    },
)
describe_enum(
    Touchpoint,
    "The moment of the customer journey feedback is about.",
    {
        Touchpoint.STORE_VISIT: "A visit to a store or branch.",
        Touchpoint.ONLINE_ORDER: "Ordering on the web shop or in the app.",
        Touchpoint.DELIVERY: "Delivery of an order.",
        Touchpoint.SUPPORT_CALL: "A call to customer support.",
        Touchpoint.BILLING: "Invoices, payments and charges.",
        Touchpoint.ONBOARDING: "Becoming a customer: sign-up and first steps.",
    },
)
describe_enum(
    TimelineKind,
    "Kinds of record on a customer's timeline.",
    {
        TimelineKind.TRANSACTION: "Purchases (`Transaction`).",
        TimelineKind.INTERACTION: "Contacts between staff and customer (`Interaction`).",
        TimelineKind.CASE: "Complaints, requests and questions (`Case`).",
        TimelineKind.FEEDBACK: "Survey responses (`Feedback`).",
        TimelineKind.OPPORTUNITY: "Possible sales (`Opportunity`).",
        TimelineKind.ALERT: "Alerts raised by the customer's feedback or complaints (`Alert`).",
    },
)
describe_enum(
    Role,
    "The role a token carries.",
    {
        Role.FRONTLINE: "Staff serving customers of their regions: records and personal data in full.",
        Role.MANAGER: "Managers of their regions: records with personal data masked, aggregates, audit.",
        Role.BOARD: "The board: company-wide aggregates, no customer record.",
        Role.CUSTOMER: "A customer: its own profile and feedback, and submitting feedback.",
        Role.INTEGRATION: "Another system reconciling customers by external id.",
        Role.BI: "BI tools and dashboards: company-wide aggregates, no customer record.",
    },
)
describe_enum(
    Access,
    "How a field is shown to the caller: full, masked, hidden (null) or denied (FORBIDDEN).",
    {
        Access.FULL: "Shown as stored; personal data shown in full is written to the audit trail.",
        Access.MASKED: "Shown partly, e.g. `j***@example.com`.",
        Access.HIDDEN: "Always null.",
        Access.DENIED: "Selecting it is a FORBIDDEN error.",
    },
)
describe_enum(
    AlertState,
    "Where an alert is in its handling.",
    {
        AlertState.OPEN: "Raised, not acknowledged yet.",
        AlertState.ACKNOWLEDGED: "Someone took it on and is handling it.",
        AlertState.RESOLVED: "Handled, with the reply sent to the customer; it can be reopened.",
    },
)
describe_enum(
    AlertReason,
    "Why an alert was raised.",
    {
        AlertReason.LOW_NPS: "The NPS answer was at or below the touchpoint's standard.",
        AlertReason.LOW_CSAT: "The CSAT answer was at or below the touchpoint's standard.",
        AlertReason.LOW_SATISFACTION_INDEX: "The satisfaction index was below the touchpoint's standard.",
        AlertReason.COMPLAINT: "A complaint case was opened.",
        AlertReason.NPS_BELOW_TARGET: "Tactical: the NPS over the standard's window fell below its target.",
        AlertReason.CSAT_BOTTOM_BOX_ABOVE_TARGET: "Tactical: the share of CSAT answers of 1 over the window "
        "rose above its target.",
        AlertReason.SATISFACTION_INDEX_BELOW_TARGET: "Tactical: the satisfaction index over the window fell "
        "below its target.",
    },
)
describe_enum(
    AlertKind,
    "Which level of the loop an alert belongs to.",
    {
        AlertKind.OPERATIONAL: "One bad experience (a response or a complaint), for its handler.",
        AlertKind.TACTICAL: "A touchpoint below its standard over a window of days, for the region's "
        "manager.",
    },
)
describe_enum(
    TargetMetric,
    "A figure over a window of days that a service standard sets a target for.",
    {
        TargetMetric.NPS: "Net promoter score of the window's NPS answers; the target is a minimum.",
        TargetMetric.CSAT_BOTTOM_BOX_SHARE: "Share of the window's CSAT answers that are 1; the target is a "
        "maximum.",
        TargetMetric.SATISFACTION_INDEX: "Mean satisfaction index of the window's rated responses; the "
        "target is a minimum.",
    },
)
describe_enum(
    Verdict,
    "How a window fares against a target.",
    {
        Verdict.MET: "The figure keeps its target.",
        Verdict.BROKEN: "The figure is past its target.",
        Verdict.NOT_JUDGED: "Fewer answers than the standard's minimum: not judged.",
    },
)
describe_enum(
    AlertAction,
    "A step in an alert's history.",
    {
        AlertAction.RAISED: "Raised by feedback or a complaint, and assigned.",
        AlertAction.ACKNOWLEDGED: "The assignee took it on.",
        AlertAction.RESOLVED: "Resolved, with the reply sent to the customer.",
        AlertAction.REASSIGNED: "A manager gave it to another employee.",
        AlertAction.REOPENED: "Opened again after it was resolved.",
        AlertAction.ESCALATED: "Past a due time: handed to the region's manager (a tactical alert: to the "
        "manager's own manager).",
        AlertAction.PLANNED: "An action plan was set or changed on a tactical alert.",
        AlertAction.CLEARED: "A tactical alert's window was back within target for a full window.",
    },
)
describe_enum(
    ErrorCode,
    "Why a mutation refused a request (errors in `errors` carry their code in extensions.code).",
    {
        ErrorCode.VALIDATION: "An argument is invalid; the error says which field and why.",
        ErrorCode.NOT_FOUND: "The record does not exist or is outside the caller's rows.",
        ErrorCode.CONFLICT: "The record changed since it was read (a stale `version`) or the step is not "
        "allowed from its current state.",
        ErrorCode.FORBIDDEN: "The caller's role may not do this.",
        ErrorCode.IDEMPOTENCY_CONFLICT: "The idempotency key was already used with other content.",
        ErrorCode.UNAUTHENTICATED: "No valid token: authenticate first.",
        ErrorCode.NOT_STARTED: "A batch item the request's time limit left unstarted: nothing of it was "
        "stored, and sending it again completes it.",
        ErrorCode.MAYBE_STORED: "A batch item whose commit the database did not confirm before the time "
        "limit: it may have been stored. Sending it again with the same key tells (DUPLICATE if it was).",
    },
)
describe_enum(
    FeedbackStatus,
    "What the customer sees of the loop its feedback started.",
    {
        FeedbackStatus.RECEIVED: "Stored; it raised no alert.",
        FeedbackStatus.BEING_HANDLED: "It raised an alert that staff are handling.",
        FeedbackStatus.RESOLVED: "Its alert was resolved and the customer was sent a reply.",
    },
)
# The API's names for grouping axes predate the domain's word for them; clients rely on these names.
describe_enum(
    Axis,
    "What feedback aggregates can be grouped by, besides time.",
    {
        Axis.REGION: "The customer's region.",
        Axis.CHANNEL: "Where the feedback was given.",
        Axis.TOUCHPOINT: "The moment of the customer journey it is about.",
        Axis.SEGMENT: "The customer's commercial segment.",
    },
    name="AggregateDimension",
)
describe_enum(
    ComplaintAxis,
    "What complaints are counted by.",
    {
        ComplaintAxis.CATEGORY: "The complaint's category.",
        ComplaintAxis.CHANNEL: "Where the complaint was raised.",
    },
    name="ComplaintDimension",
)
describe_enum(
    CustomerAxis,
    "What customer aggregates (revenue at risk, churn) are grouped by.",
    {
        CustomerAxis.REGION: "The customer's region.",
        CustomerAxis.SEGMENT: "The customer's commercial segment.",
    },
    name="CustomerDimension",
)
describe_enum(
    LoopGroup,
    "Whose handling a loop-performance row is: the assignee, the assignee's team, or the region.",
    {
        LoopGroup.EMPLOYEE: "The employee the alert is assigned to (managers and frontline only).",
        LoopGroup.TEAM: "The assignee's team.",
        LoopGroup.REGION: "The alert's region.",
    },
)
describe_enum(
    IssueAxis,
    "What recurring issues are grouped by.",
    {
        IssueAxis.CAUSE: "The root cause (each with its category).",
        IssueAxis.CATEGORY: "The root cause's category.",
        IssueAxis.REGION: "The region of the alert or complaint.",
    },
    name="IssueDimension",
)
describe_enum(
    Interval,
    "The length of a time bucket (weeks are ISO weeks, Monday to Sunday).",
    {
        Interval.DAY: "One local day of the requested time zone.",
        Interval.WEEK: "One ISO week, Monday to Sunday.",
        Interval.MONTH: "One calendar month.",
        Interval.QUARTER: "One calendar quarter: January to March, April to June, and so on.",
    },
)
describe_enum(
    ListKind,
    "Which managed list: service dimensions of feedback items, case categories, or root causes.",
    {
        ListKind.SERVICE_DIMENSION: "What feedback items rate, expectation against perception.",
        ListKind.CASE_CATEGORY: "What a case is about; complaints are counted by it.",
        ListKind.ROOT_CAUSE: "Why an alert or a complaint happened; each cause's parent is a case category.",
    },
)

describe_enum(
    NextBestAction,
    "What the frontline should do next with a customer.",
    {
        NextBestAction.RECOVER: (
            "An open alert or complaint, or a bad score in the last 30 days: fix first, never sell."
        ),
        NextBestAction.RETAIN: (
            "Valuable and slipping (lapsed buying, falling spend or score): a retention call."
        ),
        NextBestAction.FOLLOW_UP: "A passive (NPS 7-8): ask what would make it a 9 or 10.",
        NextBestAction.ADVOCATE: (
            "A promoter (NPS 9-10) who may be contacted: ask for a referral or a review."
        ),
        NextBestAction.GROW: "A promoter with an open opportunity and marketing consent: a cross-sell.",
        NextBestAction.NONE: "Nothing to do now (no history, churned, no consent, or nothing due).",
    },
)
describe_enum(
    ReasonCode,
    "A rule that shaped a customer's standing (the README lists them with their weights).",
    {
        ReasonCode.NO_HISTORY: "No record of any kind yet.",
        ReasonCode.OPEN_ALERT: "Alerts open or acknowledged, not yet resolved.",
        ReasonCode.OPEN_COMPLAINT: "Complaint cases open or in progress.",
        ReasonCode.RECENT_BAD_SCORE: (
            "The latest score (NPS 0-6, or CSAT 1-2 without an NPS) is under 30 days old."
        ),
        ReasonCode.CHURNED: "The customer has churned.",
        ReasonCode.HIGH_VALUE: "Lifetime value of at least 1,000.00: weighs more.",
        ReasonCode.LAPSED_BUYER: "Bought at least 3 times in a year, and not for 60 days.",
        ReasonCode.SPEND_DOWN: "Spent under half in the last 90 days of what it spent in the 90 days before.",
        ReasonCode.SCORE_DROP: "NPS (or CSAT) at least 2 points below the response before.",
        ReasonCode.PASSIVE: "The latest NPS (of the last year) is 7 or 8.",
        ReasonCode.PROMOTER: "The latest NPS (of the last year) is 9 or 10.",
        ReasonCode.OPEN_OPPORTUNITY: "An opportunity neither won nor lost: something to offer.",
        ReasonCode.NO_MARKETING_CONSENT: "No marketing consent: no cross-sell.",
        ReasonCode.NO_CONTACT_CONSENT: (
            "No consent to be contacted by e-mail, text or phone: no referral request."
        ),
        ReasonCode.RECENT_CONTACT: "Someone was in touch in the last 7 days: weighs less.",
        ReasonCode.NOTHING_DUE: "No rule asks for a contact now.",
    },
    name="StandingReasonCode",
)
describe_enum(
    Owner,
    "Whose customers a worklist shows.",
    {Owner.ME: "The customers the caller owns.", Owner.ANY: "Every customer of the caller's regions."},
    name="WorklistOwner",
)
describe_enum(
    NpsCategory,
    "A customer's category by the NPS it gave.",
    {NpsCategory.PROMOTER: "NPS 9-10.", NpsCategory.PASSIVE: "NPS 7-8.", NpsCategory.DETRACTOR: "NPS 0-6."},
)
describe_enum(
    ValueWindow,
    "Days before and after a response over which experience value counts spend and churn.",
    {ValueWindow.DAYS_30: "30 days before and after.", ValueWindow.DAYS_90: "90 days before and after."},
)
describe_enum(
    ValueAxis,
    "What experience value can be grouped by, besides time and the NPS category.",
    {
        ValueAxis.REGION: "The region the response was given in.",
        ValueAxis.SEGMENT: "The customer's commercial segment.",
        ValueAxis.TOUCHPOINT: "The moment of the customer journey the response is about.",
    },
    name="ValueDimension",
)

__all__ = [
    "Access",
    "AlertAction",
    "AlertKind",
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
    "IssueAxis",
    "ListKind",
    "LoopGroup",
    "NextBestAction",
    "NpsCategory",
    "OpportunityStage",
    "Owner",
    "ReasonCode",
    "Role",
    "SalesChannel",
    "Segment",
    "Severity",
    "TargetMetric",
    "Tier",
    "TimelineKind",
    "Touchpoint",
    "ValueAxis",
    "ValueWindow",
    "Verdict",
    "describe_enum",
]
