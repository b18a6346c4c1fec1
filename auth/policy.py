"""The one policy table: the root operations each role may call, the rows it sees, how each field is shown.

Anything not in the table is denied. Resolvers never compare role names: the GraphQL layer enforces this
table on every field (``resolvers/guards.py``) and ``viewer`` reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from auth.masks import mask_emails, mask_phones, without_street
from auth.principal import Principal, Role
from domain.aggregates.disclosure import Guarantee
from domain.aggregates.loop_performance import LoopGroup
from domain.customers.search import WordKind
from domain.feedback.service import Submitter
from domain.scope import RowScope
from domain.timeline import TimelineKind

FRONTLINE, MANAGER, BOARD, CUSTOMER, INTEGRATION, BI = (
    Role.FRONTLINE,
    Role.MANAGER,
    Role.BOARD,
    Role.CUSTOMER,
    Role.INTEGRATION,
    Role.BI,
)


class Access(StrEnum):
    """How a field is shown to a role."""

    FULL = "FULL"
    MASKED = "MASKED"
    HIDDEN = "HIDDEN"  # shown as null
    DENIED = "DENIED"  # a FORBIDDEN error


@dataclass(frozen=True, slots=True)
class FieldRule:
    """Access per role for one field; roles not named are denied."""

    access: Mapping[Role, Access]
    mask: Callable[[Any], Any] | None = None
    personal: bool = False  # customer PII: shown in full, it is written to the audit trail

    def for_role(self, role: Role) -> Access:
        return self.access.get(role, Access.DENIED)


def allow(*roles: Role, personal: bool = False) -> FieldRule:
    """Full access for ``roles``."""
    return FieldRule(dict.fromkeys(roles, Access.FULL), personal=personal)


EVERYONE = allow(*Role)
STAFF = allow(FRONTLINE, MANAGER, INTEGRATION)
STAFF_AND_SELF = allow(FRONTLINE, MANAGER, INTEGRATION, CUSTOMER)
ALERT_READERS = allow(FRONTLINE, MANAGER)
# A customer's standing and the worklist: its region's staff only (not integrations, nor the customer).
STANDING_READERS = allow(FRONTLINE, MANAGER)
# Aggregates: managers for their regions, the board and BI tools for the whole company (aggregate_scope).
ANALYSTS = allow(MANAGER, BOARD, BI)
IDENTITY = allow(FRONTLINE, MANAGER, INTEGRATION, CUSTOMER, personal=True)
PRIVATE_TO_MANAGERS = FieldRule(
    {FRONTLINE: Access.FULL, INTEGRATION: Access.FULL, CUSTOMER: Access.FULL, MANAGER: Access.HIDDEN},
    personal=True,
)


def masked_for_managers(mask: Callable[[Any], Any]) -> FieldRule:
    """Personal data in full for the customer's own staff and the customer, masked for managers."""
    access = {FRONTLINE: Access.FULL, INTEGRATION: Access.FULL, CUSTOMER: Access.FULL, MANAGER: Access.MASKED}
    return FieldRule(access, mask=mask, personal=True)


def rules(rule: FieldRule, *names: str) -> dict[str, FieldRule]:
    """The same rule for several fields, each still named explicitly."""
    return dict.fromkeys(names, rule)


OPERATIONS: dict[str, frozenset[Role]] = {
    "viewer": frozenset(Role),
    "customer": frozenset({FRONTLINE, MANAGER}),
    "customers": frozenset({FRONTLINE, MANAGER}),
    "node": frozenset({FRONTLINE, MANAGER}),
    "me": frozenset({CUSTOMER}),
    "customerByExternalId": frozenset({INTEGRATION}),
    "auditTrail": frozenset({MANAGER}),
    "alerts": frozenset({FRONTLINE, MANAGER}),
    # Who to call today: the staff of the customers' regions, never the board, BI tools or customers.
    "worklist": frozenset({FRONTLINE, MANAGER}),
    "serviceStandards": frozenset({MANAGER}),
    "serviceStandardHistory": frozenset({MANAGER}),
    "serviceStandardWindows": frozenset({MANAGER}),
    **dict.fromkeys(
        (
            "experience",
            "complaints",
            "serviceStandardCompliance",
            "revenueAtRisk",
            "churn",
            "experienceValue",
        ),
        frozenset({MANAGER, BOARD, BI}),
    ),
    "loopPerformance": frozenset({FRONTLINE, MANAGER, BOARD, BI}),
    "recurringIssues": frozenset({MANAGER, BOARD, BI}),
    "digest": frozenset({FRONTLINE, MANAGER}),
    "submitFeedback": frozenset({CUSTOMER, FRONTLINE}),
    "submitFeedbackBatch": frozenset({CUSTOMER, FRONTLINE}),
    "openCase": frozenset({FRONTLINE}),
    "updateCase": frozenset({FRONTLINE}),
    # Managers handle the tactical alerts of their regions (and may close operational ones themselves).
    "acknowledgeAlert": frozenset({FRONTLINE, MANAGER}),
    "resolveAlert": frozenset({FRONTLINE, MANAGER}),
    "setAlertActionPlan": frozenset({FRONTLINE, MANAGER}),
    "reassignAlert": frozenset({MANAGER}),
    "reopenAlert": frozenset({FRONTLINE, MANAGER}),
    "setServiceStandard": frozenset({MANAGER}),
    # Managed lists are vocabulary, no one's data: whoever builds forms or reads codes may read them.
    "managedList": frozenset(Role),
    "saveListEntry": frozenset({MANAGER}),
    "alertRaised": frozenset({FRONTLINE, MANAGER}),
    "alertUpdated": frozenset({FRONTLINE, MANAGER}),
    "feedbackReceived": frozenset({MANAGER}),
    # Apollo Federation, when the schema is built as a subgraph: a router asks for the SDL with any token
    # (``_service`` answers only while introspection is on) and resolves entities with the client's token,
    # exactly as ``node`` would for that role.
    "_service": frozenset(Role),
    "_entities": frozenset({FRONTLINE, MANAGER}),
    "digestPublished": frozenset({FRONTLINE, MANAGER}),
}

# What each role's aggregates promise (domain/aggregates/disclosure.py). Managers may read every record of
# their regions, so exact figures give nothing away; the board and BI tools read no record, so small groups
# must not be recoverable from any set of answers. Frontline's only aggregates are its own loop-performance
# row and its daily digest, over records it reads anyway. Roles not named call no aggregate at all.
AGGREGATE_GUARANTEES: Mapping[Role, Guarantee] = {
    FRONTLINE: Guarantee.EXACT,
    MANAGER: Guarantee.EXACT,
    BOARD: Guarantee.PROTECTED,
    BI: Guarantee.PROTECTED,
}

# What each role may group loop performance by: company-wide callers never see a named employee. A frontline
# employee's rows hold its own alerts only, however grouped. Roles not named do not call it.
LOOP_GROUPS: Mapping[Role, frozenset[LoopGroup]] = {
    FRONTLINE: frozenset(LoopGroup),
    MANAGER: frozenset(LoopGroup),
    BOARD: frozenset({LoopGroup.TEAM, LoopGroup.REGION}),
    BI: frozenset({LoopGroup.TEAM, LoopGroup.REGION}),
}

# Root fields whose GET responses a caller's own cache may keep briefly: aggregates, no personal data.
# (Loop performance is not among them: its backlog ages move with every minute.)
CACHEABLE_OPERATIONS = frozenset(
    {
        "experience",
        "complaints",
        "serviceStandardCompliance",
        "revenueAtRisk",
        "churn",
        "recurringIssues",
        "experienceValue",
    }
)

_CONNECTION = ("edges", "nodes", "pageInfo", "totalCount")
_EDGE = ("cursor", "node")

FIELDS: dict[str, dict[str, FieldRule]] = {
    "_Service": rules(EVERYONE, "sdl"),
    "Viewer": rules(EVERYONE, "subject", "role", "regions", "operations", "types"),
    "TypeAccess": rules(EVERYONE, "name", "fields"),
    "FieldAccess": rules(EVERYONE, "name", "access"),
    "Customer": {
        **rules(IDENTITY, "givenName", "familyName", "displayName"),
        "emails": masked_for_managers(mask_emails),
        "phones": masked_for_managers(mask_phones),
        "address": masked_for_managers(without_street),
        "birthDate": PRIVATE_TO_MANAGERS,
        **rules(STAFF_AND_SELF, "id", "birthYear", "tier", "consent", "createdAt", "updatedAt", "feedback"),
        **rules(STAFF, "externalIds", "segment", "region", "status", "lifetimeValue", "tags", "owner"),
        **rules(STAFF, "transactions", "interactions", "cases", "opportunities", "timeline", "metrics"),
        "alerts": ALERT_READERS,
        "standing": STANDING_READERS,
    },
    "Standing": rules(STANDING_READERS, "priority", "action", "reasons", "computedAt"),
    "StandingReason": rules(STANDING_READERS, "code", "text"),
    "WorklistConnection": rules(STANDING_READERS, "edges", "nodes", "pageInfo"),
    "WorklistEdge": rules(STANDING_READERS, *_EDGE),
    "Address": rules(STAFF_AND_SELF, "street", "city", "postalCode", "country"),
    "ExternalId": rules(STAFF, "system", "id"),
    "Consent": rules(STAFF_AND_SELF, "email", "sms", "phone", "marketing"),
    "CustomerMetrics": rules(
        STAFF,
        "responses",
        "lastNps",
        "csatMean",
        "satisfactionIndex",
        "openCases",
        "lifetimeValue",
        "lastContactAt",
        "daysSinceLastContact",
    ),
    "Money": rules(STAFF, "amount", "amountMinor", "currency"),
    "Employee": rules(STAFF, "id", "name", "email", "role", "regions", "team"),
    "Transaction": rules(STAFF, "id", "customer", "amount", "items", "channel", "touchpoint", "occurredAt"),
    "LineItem": rules(STAFF, "sku", "name", "quantity", "unitPrice"),
    "Interaction": rules(
        STAFF,
        "id",
        "customer",
        "kind",
        "direction",
        "channel",
        "summary",
        "occurredAt",
        "nextStep",
        "followUpOn",
        "employee",
    ),
    "Case": rules(
        STAFF,
        "id",
        "customer",
        "kind",
        "channel",
        "category",
        "severity",
        "status",
        "subject",
        "openedAt",
        "dueAt",
        "history",
        "resolution",
        "customerNotified",
        "assignee",
        "version",
        "rootCause",
    ),
    "CaseStatusChange": rules(STAFF, "status", "at", "note"),
    "CustomerNotice": rules(STAFF, "at", "channel"),
    "Opportunity": rules(
        STAFF,
        "id",
        "customer",
        "title",
        "stage",
        "amount",
        "probability",
        "expectedCloseOn",
        "openedAt",
        "owner",
    ),
    "Feedback": rules(
        STAFF_AND_SELF,
        "id",
        "customer",
        "channel",
        "touchpoint",
        "occurredAt",
        "receivedAt",
        "nps",
        "csat",
        "effort",
        "items",
        "satisfactionIndex",
        "comment",
        "status",
        "reply",
    ),
    "ScoreItem": rules(STAFF_AND_SELF, "dimension", "expectation", "perception", "gap"),
    "PageInfo": rules(EVERYONE, "hasNextPage", "hasPreviousPage", "startCursor", "endCursor"),
    "CustomerConnection": rules(STAFF, "edges", "nodes", "pageInfo"),
    "CustomerEdge": rules(STAFF, *_EDGE),
    **{f"{kind}Connection": rules(STAFF, *_CONNECTION) for kind in ("Transaction", "Interaction", "Case")},
    **{f"{kind}Edge": rules(STAFF, *_EDGE) for kind in ("Transaction", "Interaction", "Case", "Opportunity")},
    "OpportunityConnection": rules(STAFF, *_CONNECTION),
    "FeedbackConnection": rules(STAFF_AND_SELF, *_CONNECTION),
    "FeedbackEdge": rules(STAFF_AND_SELF, *_EDGE),
    "TimelineConnection": rules(STAFF, "edges", "nodes", "pageInfo"),
    "TimelineEdge": rules(STAFF, *_EDGE),
    "AuditEntry": rules(
        allow(MANAGER), "subject", "role", "customerId", "fields", "operation", "requestId", "at"
    ),
    "AuditEntryConnection": rules(allow(MANAGER), "edges", "nodes", "pageInfo"),
    "AuditEntryEdge": rules(allow(MANAGER), *_EDGE),
    "Reply": rules(STAFF_AND_SELF, "message", "channel", "at"),
    "Alert": rules(
        ALERT_READERS,
        "id",
        "customer",
        "region",
        "touchpoint",
        "reasons",
        "state",
        "raisedAt",
        "acknowledgeDueAt",
        "resolveDueAt",
        "dueAt",
        "escalatedAt",
        "resolution",
        "reply",
        "history",
        "version",
        "assignee",
        "overdue",
        "escalatedTo",
        "kind",
        "tactical",
        "actionPlan",
        "rootCause",
    ),
    "RootCause": rules(STAFF, "code", "category", "note", "at", "by"),
    "TacticalBreach": rules(
        ALERT_READERS,
        "metric",
        "figure",
        "target",
        "windowDays",
        "windowFrom",
        "windowTo",
        "responses",
        "standardVersion",
        "worstCells",
        "clearedAt",
    ),
    "BreachContribution": rules(ALERT_READERS, "dimension", "value", "responses", "figure", "change"),
    "ActionPlan": rules(ALERT_READERS, "text", "dueAt", "at", "by"),
    "WindowDay": rules(allow(MANAGER), "day", "windowFrom", "responses", "standardVersion", "targets"),
    "WindowTarget": rules(allow(MANAGER), "metric", "target", "figure", "responses", "verdict"),
    "AlertStep": rules(ALERT_READERS, "action", "at", "by", "note", "assignee"),
    "AlertConnection": rules(ALERT_READERS, "edges", "nodes", "pageInfo"),
    "AlertEdge": rules(ALERT_READERS, *_EDGE),
    "CustomerAlertConnection": rules(ALERT_READERS, *_CONNECTION),
    "ServiceStandard": rules(
        allow(MANAGER),
        "region",
        "touchpoint",
        "npsAtMost",
        "csatAtMost",
        "satisfactionIndexBelow",
        "acknowledgeWithinMinutes",
        "resolveWithinMinutes",
        "targetCsat",
        "targetNps",
        "window",
        "isDefault",
        "version",
        "updatedAt",
        "updatedBy",
    ),
    "StandardWindow": rules(
        allow(MANAGER),
        "windowDays",
        "minResponses",
        "npsAtLeast",
        "csatBottomBoxShareAtMost",
        "satisfactionIndexAtLeast",
    ),
    "ServiceStandardChange": rules(allow(MANAGER), "version", "at", "by", "before", "after"),
    "ServiceStandardSaved": rules(allow(MANAGER), "standard"),
    "FeedbackSubmitted": {"feedback": allow(CUSTOMER, FRONTLINE), "alert": allow(FRONTLINE)},
    "BatchItemResult": rules(allow(CUSTOMER, FRONTLINE), "index", "idempotencyKey", "status", "result"),
    "CaseSaved": rules(allow(FRONTLINE), "case", "alert"),
    "AlertChanged": rules(ALERT_READERS, "alert"),
    "ExperienceBucket": rules(
        ANALYSTS,
        "periodStart",
        "periodEnd",
        "region",
        "channel",
        "touchpoint",
        "segment",
        "suppressed",
        "responses",
        "npsResponses",
        "promoters",
        "passives",
        "detractors",
        "nps",
        "npsDistribution",
        "npsP10",
        "npsP50",
        "npsP90",
        "csatResponses",
        "csatMean",
        "csatTopBoxShare",
        "csatBottomBoxShare",
        "csatDistribution",
        "csatP10",
        "csatP50",
        "csatP90",
        "effortMean",
        "satisfactionResponses",
        "satisfactionIndex",
        "dimensions",
        "npsChange",
        "csatMeanChange",
        "satisfactionIndexChange",
    ),
    "ScoreCount": rules(ANALYSTS, "score", "count"),
    "ComplaintRow": rules(
        ANALYSTS,
        "category",
        "channel",
        "suppressed",
        "complaints",
        "share",
        "cumulativeShare",
        "resolved",
        "medianHoursToResolve",
        "p90HoursToResolve",
        "reopened",
        "reopenRate",
    ),
    "ComplianceRow": rules(
        ANALYSTS,
        "region",
        "touchpoint",
        "suppressed",
        "alerts",
        "acknowledgedInTime",
        "resolvedInTime",
        "acknowledgedInTimeShare",
        "resolvedInTimeShare",
        "breaches",
        "escalations",
        "medianMinutesToAcknowledge",
        "medianMinutesToResolve",
    ),
    "LoopPerformanceRow": {
        **rules(
            allow(FRONTLINE, MANAGER, BOARD, BI),
            "periodStart",
            "periodEnd",
            "team",
            "region",
            "suppressed",
            "alerts",
            "acknowledgedInTime",
            "acknowledgedInTimeShare",
            "resolvedInTime",
            "resolvedInTimeShare",
            "medianMinutesToAcknowledge",
            "p90MinutesToAcknowledge",
            "medianMinutesToResolve",
            "p90MinutesToResolve",
            "escalations",
            "reopened",
            "reopenRate",
            "open",
            "openMedianAgeHours",
            "openOldestAgeHours",
            "resolved",
            "recoveryResponses",
            "recovered",
            "recoveryShare",
            "meanNpsChange",
        ),
        # A named employee: never to the board or BI tools.
        "employee": allow(FRONTLINE, MANAGER),
    },
    "RecurringIssue": rules(
        ANALYSTS,
        "periodStart",
        "periodEnd",
        "cause",
        "category",
        "region",
        "suppressed",
        "count",
        "share",
        "baselineCount",
        "expected",
        "change",
        "pValue",
        "rising",
    ),
    "Digest": rules(
        ALERT_READERS,
        "date",
        "regions",
        "newAlertCount",
        "newAlerts",
        "breaches",
        "resolvedCount",
        "resolved",
        "risingCauses",
    ),
    "DigestRisingCause": rules(
        ALERT_READERS, "cause", "category", "count", "baselineCount", "expected", "pValue"
    ),
    "DigestBreach": rules(
        ALERT_READERS,
        "region",
        "touchpoint",
        "metric",
        "figure",
        "target",
        "windowDays",
        "raisedAt",
        "clearedAt",
    ),
    "DigestResolution": rules(ALERT_READERS, "cause", "category", "resolved", "notes"),
    "RiskRow": rules(ANALYSTS, "region", "segment", "currency", "suppressed", "customers", "lifetimeValue"),
    "ChurnRow": rules(
        ANALYSTS,
        "periodStart",
        "periodEnd",
        "region",
        "segment",
        "suppressed",
        "activeAtStart",
        "joined",
        "churned",
        "churnRate",
    ),
    "DimensionScore": rules(ANALYSTS, "dimension", "responses", "satisfactionIndex", "gap"),
    "ManagedList": rules(EVERYONE, "kind", "version", "entries"),
    "ListEntry": {
        **rules(EVERYONE, "code", "label", "active", "parent"),
        # Who maintains the vocabulary is the maintainers' business.
        **rules(allow(MANAGER), "updatedBy", "updatedAt"),
    },
    "ListEntrySaved": rules(allow(MANAGER), "list"),
    "ExperienceValueRow": rules(
        ANALYSTS,
        "periodStart",
        "periodEnd",
        "region",
        "segment",
        "touchpoint",
        "category",
        "complete",
        "suppressed",
        "customers",
        "repeatPurchasers",
        "repeatPurchaseRate",
        "churned",
        "churnRate",
        "spend",
    ),
    "CurrencySpend": rules(ANALYSTS, "currency", "before", "after", "change", "meanBefore", "meanAfter"),
    # Errors carry no data of anyone: whoever may call a mutation may read why it failed.
    "ValidationError": rules(EVERYONE, "code", "message", "fields"),
    "FieldProblem": rules(EVERYONE, "field", "code", "message"),
    **{
        error: rules(EVERYONE, "code", "message")
        for error in (
            "NotFoundError",
            "ConflictError",
            "IdempotencyConflictError",
            "NotStartedError",
            "MaybeStoredError",
        )
    },
}


# What a read field's arguments compare, so that nobody matches or sorts by what it sees masked or hidden.
# Per field ("Type.field") and argument path ("filter.regions" for a field of an input argument): the fields
# whose values the argument compares. ``ORDER`` is the order a list is kept in, which ``after`` carries too.
# A role may use an argument only when it sees each of those fields in full: root operations refuse it
# otherwise (``resolvers/policy.py``); a nested list that would have to refuse one stops the schema building.
# A test fails when a read field gains an argument without an entry here.
ORDER = "(order)"
Compared = tuple[str, ...]

# The customer fields each kind of search word comes from: a role's search looks only at the kinds it sees.
SEARCH_WORDS: dict[WordKind, Compared] = {
    WordKind.NAME: ("Customer.givenName", "Customer.familyName", "Customer.displayName"),
    WordKind.EMAIL: ("Customer.emails",),
}
# Arguments the server narrows to what the role sees instead of refusing them: a search looks at the kinds of
# words the role sees (``search_kinds``), a timeline shows the kinds of record whose time it sees
# (``timeline_kinds``), so its order and cursors compare those times only.
NARROWED = frozenset(
    {("Query.customers", "search"), ("Customer.timeline", ORDER), ("Customer.timeline", "after")}
)

_NAMES: Compared = ("Customer.familyName", "Customer.givenName")
# When each kind of record happened: what a customer's lists and timeline are ordered by.
RECORD_TIMES: dict[TimelineKind, str] = {
    TimelineKind.TRANSACTION: "Transaction.occurredAt",
    TimelineKind.INTERACTION: "Interaction.occurredAt",
    TimelineKind.CASE: "Case.openedAt",
    TimelineKind.FEEDBACK: "Feedback.occurredAt",
    TimelineKind.OPPORTUNITY: "Opportunity.openedAt",
    TimelineKind.ALERT: "Alert.raisedAt",
}
_LISTS = {
    "transactions": TimelineKind.TRANSACTION,
    "interactions": TimelineKind.INTERACTION,
    "cases": TimelineKind.CASE,
    "feedback": TimelineKind.FEEDBACK,
    "opportunities": TimelineKind.OPPORTUNITY,
    "alerts": TimelineKind.ALERT,
}
# Aggregates compare dimension values as their rows show them; periods and zones compare no one's field.
_REGION: Compared = ("ExperienceBucket.region", "ComplianceRow.region", "RiskRow.region", "ChurnRow.region")
_SEGMENT: Compared = ("ExperienceBucket.segment", "RiskRow.segment", "ChurnRow.segment")
_CHANNEL: Compared = ("ExperienceBucket.channel", "ComplaintRow.channel")
_TOUCHPOINT: Compared = ("ExperienceBucket.touchpoint", "ComplianceRow.touchpoint")
_PERIOD: dict[str, Compared] = {"filter.from": (), "filter.to": (), "filter.timeZone": ()}
_PAGE: dict[str, Compared] = {"first": ()}


def _ordered_by(*fields: str) -> dict[str, Compared]:
    return {ORDER: fields, "after": fields}


SELECTORS: dict[str, dict[str, Compared]] = {
    # A global id is a handle the server gave out, not a value anyone matches.
    "Query.customer": {"id": ()},
    "Query.node": {"id": ()},
    "Query.customers": {
        **_PAGE,
        "last": (),
        **_ordered_by(*_NAMES),
        "before": _NAMES,
        "filter.regions": ("Customer.region",),
        "filter.segments": ("Customer.segment",),
        "filter.status": ("Customer.status",),
        "filter.ownerId": ("Customer.owner",),
        "filter.tags": ("Customer.tags",),
        "search": tuple(field for fields in SEARCH_WORDS.values() for field in fields),
    },
    "Query.customerByExternalId": {"system": ("Customer.externalIds",), "id": ("Customer.externalIds",)},
    "Query.auditTrail": {**_PAGE, **_ordered_by("AuditEntry.at"), "customerId": ("AuditEntry.customerId",)},
    "Query.alerts": {
        **_PAGE,
        **_ordered_by("Alert.dueAt"),
        "filter.states": ("Alert.state",),
        "filter.overdue": ("Alert.overdue",),
        "filter.mine": ("Alert.assignee",),
        "filter.kinds": ("Alert.kind",),
    },
    "Query.serviceStandards": {"region": ("ServiceStandard.region",)},
    "Query.serviceStandardHistory": {
        **_PAGE,
        "region": ("ServiceStandard.region",),
        "touchpoint": ("ServiceStandard.touchpoint",),
    },
    "Query.serviceStandardWindows": {
        "region": ("ServiceStandard.region",),
        "touchpoint": ("ServiceStandard.touchpoint",),
        "from": (),
        "to": (),
    },
    # Grouping by employee is for the roles of ``LOOP_GROUPS`` only, refused to the others by value.
    "Query.loopPerformance": {
        **_PERIOD,
        "filter.regions": ("LoopPerformanceRow.region",),
        "filter.teams": ("LoopPerformanceRow.team",),
        "groupBy": ("LoopPerformanceRow.team", "LoopPerformanceRow.region"),
        "interval": (),
    },
    "Query.recurringIssues": {
        **_PERIOD,
        "filter.regions": ("RecurringIssue.region",),
        "filter.categories": ("RecurringIssue.category",),
        "groupBy": ("RecurringIssue.cause", "RecurringIssue.category", "RecurringIssue.region"),
        "interval": (),
    },
    "Query.digest": {"date": ()},
    "Digest.newAlerts": {"first": (), ORDER: ("Alert.raisedAt",)},
    "Query.experience": {
        **_PERIOD,
        "filter.regions": _REGION,
        "filter.channels": _CHANNEL,
        "filter.touchpoints": _TOUCHPOINT,
        "filter.segments": _SEGMENT,
        "groupBy": _REGION + _CHANNEL + _TOUCHPOINT + _SEGMENT,
        "interval": (),
    },
    "Query.complaints": {
        **_PERIOD,
        "filter.regions": _REGION,
        "filter.channels": _CHANNEL,
        "by": ("ComplaintRow.category", "ComplaintRow.channel"),
    },
    "Query.serviceStandardCompliance": {
        **_PERIOD,
        "filter.regions": _REGION,
        "filter.touchpoints": _TOUCHPOINT,
    },
    "Query.revenueAtRisk": {
        "filter.asOf": (),
        "filter.windowDays": (),
        "filter.regions": _REGION,
        "filter.segments": _SEGMENT,
        "groupBy": _REGION + _SEGMENT,
    },
    "Query.churn": {
        **_PERIOD,
        "filter.regions": _REGION,
        "filter.segments": _SEGMENT,
        "groupBy": _REGION + _SEGMENT,
        "interval": (),
    },
    "Query.managedList": {"kind": ("ManagedList.kind",)},
    "Query.experienceValue": {
        **_PERIOD,
        "filter.window": (),
        "filter.regions": ("ExperienceValueRow.region",),
        "filter.segments": ("ExperienceValueRow.segment",),
        "filter.touchpoints": ("ExperienceValueRow.touchpoint",),
        "groupBy": (
            "ExperienceValueRow.region",
            "ExperienceValueRow.segment",
            "ExperienceValueRow.touchpoint",
        ),
        "interval": (),
    },
    # The worklist is kept in priority order (ties broken by a fixed key no one reads).
    "Query.worklist": {
        **_PAGE,
        **_ordered_by("Standing.priority"),
        "filter.actions": ("Standing.action",),
        "filter.segments": ("Customer.segment",),
        "filter.owner": ("Customer.owner",),
    },
    **{f"Customer.{name}": {**_PAGE, **_ordered_by(RECORD_TIMES[kind])} for name, kind in _LISTS.items()},
    # The timeline merges the kinds by their times; ``kinds`` compares the record's type only.
    "Customer.timeline": {**_PAGE, **_ordered_by(*RECORD_TIMES.values()), "kinds": ()},
}


def sees_in_full(
    role: Role, fields: Iterable[str], *, table: Mapping[str, Mapping[str, FieldRule]] = FIELDS
) -> bool:
    """Whether ``role`` is shown every one of ``fields`` ("Type.field") in full."""
    for path in fields:
        type_name, _, field_name = path.partition(".")
        rule = table.get(type_name, {}).get(field_name)
        if rule is None or rule.for_role(role) is not Access.FULL:
            return False
    return True


def refused_arguments(
    role: Role, field: str, used: Iterable[str], *, table: Mapping[str, Mapping[str, FieldRule]] = FIELDS
) -> list[str]:
    """The arguments of ``field`` among ``used`` that compare a field ``role`` does not see in full."""
    declared = SELECTORS.get(field, {})
    return [
        path
        for path in used
        if path in declared
        and (field, path) not in NARROWED
        and not sees_in_full(role, declared[path], table=table)
    ]


@cache
def timeline_kinds(role: Role) -> frozenset[TimelineKind]:
    """The kinds of record a role's timeline shows: those whose time it sees in full."""
    return frozenset(kind for kind, time in RECORD_TIMES.items() if sees_in_full(role, (time,)))


def search_kinds(role: Role, *, table: Mapping[str, Mapping[str, FieldRule]] = FIELDS) -> frozenset[WordKind]:
    """The kinds of words a role's search looks at: those whose fields it sees in full."""
    return frozenset(kind for kind, fields in SEARCH_WORDS.items() if sees_in_full(role, fields, table=table))


def operation_allowed(role: Role, operation: str) -> bool:
    """Whether ``role`` may call the root field ``operation``."""
    return role in OPERATIONS.get(operation, frozenset())


def field_rule(type_name: str, field_name: str) -> FieldRule | None:
    """The rule of a field, or None when the table has none (which means denied)."""
    return FIELDS.get(type_name, {}).get(field_name)


def aggregate_guarantee(principal: Principal) -> Guarantee:
    """What the principal's aggregates promise; anyone not in the table gets the protected lattice."""
    return AGGREGATE_GUARANTEES.get(principal.role, Guarantee.PROTECTED)


def loop_groups(principal: Principal) -> frozenset[LoopGroup]:
    """What the principal may group loop performance by."""
    return LOOP_GROUPS.get(principal.role, frozenset())


def aggregate_scope(principal: Principal) -> RowScope:
    """What a principal's aggregates are computed over: its regions, the whole company, or nothing."""
    if principal.role is MANAGER:
        return RowScope.of_regions(principal.regions)
    if principal.role in (BOARD, BI):
        return RowScope.everything()
    return RowScope.none()


def row_scope(principal: Principal) -> RowScope:
    """The rows a principal may read at all."""
    if principal.role is FRONTLINE:
        # Tactical alerts go to managers; frontline sees those of its regions only when assigned one.
        return RowScope.of_regions(principal.regions, employee_id=principal.subject, tactical_alerts=False)
    if principal.role is MANAGER:
        return RowScope.of_regions(principal.regions, employee_id=principal.subject)
    if principal.role is CUSTOMER:
        return RowScope.of_customer(principal.subject)
    if principal.role is INTEGRATION:
        return RowScope.everything()
    return RowScope.none()


@dataclass(frozen=True, slots=True)
class RoleView:
    """What one role may do: its operations and, per reachable type, each field's access."""

    role: Role
    operations: tuple[str, ...]
    types: dict[str, dict[str, Access]] = field(default_factory=dict)


def feedback_submitter(principal: Principal) -> Submitter:
    """Customers submit about themselves; staff on a customer's behalf."""
    return Submitter(principal.subject, on_behalf=principal.role is not CUSTOMER)


def own_customer_id(principal: Principal) -> str | None:
    """The customer a principal is, if it is one."""
    return principal.subject if principal.role is CUSTOMER else None
