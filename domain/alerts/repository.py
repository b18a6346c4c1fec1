"""Persistence of alerts: the customer's list, the work queues, optimistic saves and the escalation sweep."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from domain.alerts.handling import HANDLING_FIELDS, HandlingRepository
from domain.alerts.models import (
    RECOVERY_WINDOW,
    ActionPlan,
    Alert,
    AlertAction,
    AlertKind,
    AlertReason,
    AlertState,
    AlertStep,
    Contribution,
    Recovery,
    Reply,
    TacticalBreach,
)
from domain.alerts.rules import escalation_step, resolved_at
from domain.customer_records import CustomerRecords
from domain.feedback.models import Feedback
from domain.paging import Page, Position, keyset_page
from domain.root_cause import (
    Caused,
    CauseSource,
    cause_counts,
    cause_document,
    cause_from,
    causes_recorded,
    rename_cause,
)
from domain.scope import SCOPE_KEYS, SCOPE_KEYS_VERSION, RowScope, alert_scope_keys, any_of, narrowed
from domain.standards.models import TargetMetric
from domain.store import Database, Document, Session, backfill

OPEN_STATES = [AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value]
# The alerts raised by responses, as stages over a customer's alerts (read with ``by_feedback_of``).
RAISED_STAGES: tuple[Document, ...] = ({"$match": {"feedbackId": {"$ne": None}}},)


@dataclass(frozen=True, slots=True)
class AlertQueue:
    """Which alerts a work queue shows; it is always ordered by the next deadline, oldest first."""

    states: tuple[AlertState, ...] = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
    overdue_at: datetime | None = None  # only alerts whose next deadline passed before this moment
    assignee_id: str | None = None
    kinds: tuple[AlertKind, ...] = ()  # only these kinds (every kind when empty)


def _scope_keys(region: str, kind: AlertKind | str, assignee_id: str | None) -> Document:
    """The keys an employee's scope finds the alert by, with the version of their form."""
    keys = alert_scope_keys(region=region, tactical=kind == AlertKind.TACTICAL, assignee_id=assignee_id)
    return {SCOPE_KEYS: keys, "scopeKeysVersion": SCOPE_KEYS_VERSION}


def _current_scope_keys(document: Document) -> tuple[Document, Document]:
    """A stored alert's scope keys as this version forms them, from its region, kind and assignee."""
    read = {
        "region": document["region"],
        "kind": document.get("kind"),
        "assigneeId": document.get("assigneeId"),
    }
    return read, _scope_keys(read["region"], read["kind"] or AlertKind.OPERATIONAL, read["assigneeId"])


def _step_doc(step: AlertStep) -> Document:
    return {
        "action": step.action.value,
        "at": step.at,
        "by": step.by,
        "note": step.note,
        "assigneeId": step.assignee_id,
    }


def _tactical_doc(breach: TacticalBreach | None) -> Document | None:
    if breach is None:
        return None
    return {
        "metric": breach.metric.value,
        "figure": breach.figure,
        "target": breach.target,
        "windowDays": breach.window_days,
        "windowFirst": breach.window_first.isoformat(),
        "windowLast": breach.window_last.isoformat(),
        "responses": breach.responses,
        "standardVersion": breach.standard_version,
        "worst": [
            {
                "axis": c.axis,
                "value": c.value,
                "responses": c.responses,
                "figure": c.figure,
                "change": c.change,
            }
            for c in breach.worst
        ],
        "clearedAt": breach.cleared_at,
    }


def _tactical(document: Document | None) -> TacticalBreach | None:
    if document is None:
        return None
    return TacticalBreach(
        metric=TargetMetric(document["metric"]),
        figure=float(document["figure"]),
        target=float(document["target"]),
        window_days=int(document["windowDays"]),
        window_first=date.fromisoformat(document["windowFirst"]),
        window_last=date.fromisoformat(document["windowLast"]),
        responses=int(document["responses"]),
        standard_version=int(document["standardVersion"]),
        worst=tuple(
            Contribution(c["axis"], c["value"], int(c["responses"]), c.get("figure"), float(c["change"]))
            for c in document.get("worst", ())
        ),
        cleared_at=document.get("clearedAt"),
    )


class AlertRepository(CustomerRecords[Alert]):
    """Alerts; ``occurredAt`` is when the alert was raised and ``dueAt`` its next deadline."""

    collection_name = "alerts"
    extra_indexes: ClassVar[tuple[tuple[tuple[str, int], ...], ...]] = (
        (("region", 1), ("state", 1), ("dueAt", 1), ("_id", 1)),
        (("assigneeId", 1), ("state", 1), ("dueAt", 1), ("_id", 1)),
        (("state", 1), ("escalatedAt", 1), ("dueAt", 1)),
        (("feedbackId", 1),),
        (("occurredAt", 1),),
        (("customerId", 1), ("resolvedAt", 1)),
        (("kind", 1), ("occurredAt", 1)),
        (("rootCause.at", 1),),
        # Finds the alerts whose scope keys an older version stored (or none), in one index range.
        (("scopeKeysVersion", 1),),
    )

    async def raised_between(
        self, start: datetime, end: datetime, *, regions: Sequence[str], touchpoints: Sequence[str]
    ) -> list[Alert]:
        """Operational alerts in scope raised from ``start`` up to ``end``, of these regions and touchpoints
        if given (tactical alerts are about windows, not experiences, and have no customer)."""
        pipeline = [
            {
                "$match": {
                    "occurredAt": {"$gte": start, "$lt": end},
                    "kind": {"$ne": AlertKind.TACTICAL.value},
                }
            },
            {"$match": self._in_scope(any_of(region=regions, touchpoint=touchpoints))},
        ]
        return [self.from_document(d) async for d in await self._collection.aggregate(pipeline)]

    async def tactical_during(self, start: datetime, end: datetime, *, regions: Sequence[str]) -> list[Alert]:
        """Tactical alerts in scope open at some moment from ``start`` up to ``end``: raised before ``end``,
        not cleared before ``start``."""
        pipeline = [
            {"$match": {"kind": AlertKind.TACTICAL.value, "occurredAt": {"$lt": end}}},
            {"$match": {"$or": [{"tactical.clearedAt": None}, {"tactical.clearedAt": {"$gte": start}}]}},
            {"$match": self._in_scope(any_of(region=regions))},
        ]
        return [self.from_document(d) async for d in await self._collection.aggregate(pipeline)]

    async def caused_between(self, start: datetime, end: datetime, *, regions: Sequence[str]) -> list[Caused]:
        """The root causes recorded on alerts in scope from ``start`` up to ``end`` (at the resolution).

        A complaint's alert is left out: the complaint case carries the same cause, and counts it once.
        Tactical alerts are left out too: recurring issues are about experiences.
        """
        experiences = {
            "rootCause.at": {"$gte": start, "$lt": end},
            "caseId": None,
            "kind": {"$ne": AlertKind.TACTICAL.value},
        }
        return await causes_recorded(
            self._collection, CauseSource.ALERT, [experiences, self._in_scope(any_of(region=regions))]
        )

    async def cause_counts(self) -> dict[str, int]:
        """How many alerts in scope carry each root cause, in one command (a scan: for audits)."""
        return await cause_counts(self._collection, self._in_scope({"rootCause": {"$ne": None}}))

    async def rename_cause(self, old: str, new: str) -> int:
        """Give every alert in scope with root cause ``old`` the cause ``new`` (a new version); how many."""
        return await rename_cause(self._collection, self._in_scope({"rootCause.code": old}), new)

    async def customers_with_open_alerts(self) -> set[str]:
        """The customers in scope with an alert not yet resolved."""
        pipeline = [
            {"$match": {"state": {"$in": [AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value]}}},
            {"$match": self._in_scope({"customerId": {"$ne": None}})},
            {"$group": {"_id": "$customerId"}},
        ]
        return {row["_id"] async for row in await self._collection.aggregate(pipeline)}

    async def open_ids_by_customer(self, customer_ids: Sequence[str]) -> dict[str, set[str]]:
        """The open or acknowledged alerts of each customer, by id (customers without are absent), in one
        command."""
        query = narrowed(
            {"customerId": {"$in": list(customer_ids)}}, self._in_scope({"state": {"$in": OPEN_STATES}})
        )
        found: dict[str, set[str]] = {}
        async for document in self._collection.find(query, {"customerId": 1}):
            found.setdefault(document["customerId"], set()).add(document["_id"])
        return found

    @classmethod
    def scope_filter(cls, scope: RowScope) -> dict[str, Any]:
        return scope.alert_filter()

    @staticmethod
    def to_document(record: Alert) -> Document:
        reply = record.reply
        return {
            "_id": record.id,
            "customerId": record.customer_id,
            "region": record.region,
            "touchpoint": record.touchpoint,
            "feedbackId": record.feedback_id,
            "caseId": record.case_id,
            "reasons": [r.value for r in record.reasons],
            "state": record.state.value,
            "assigneeId": record.assignee_id,
            "occurredAt": record.raised_at,
            "acknowledgeDueAt": record.acknowledge_due_at,
            "resolveDueAt": record.resolve_due_at,
            "dueAt": record.due_at,
            "escalatedAt": record.escalated_at,
            "escalatedTo": record.escalated_to,
            "resolution": record.resolution,
            "reply": {"message": reply.message, "channel": reply.channel, "at": reply.at} if reply else None,
            "history": [_step_doc(step) for step in record.history],
            "version": record.version,
            "kind": record.kind.value,
            "tactical": _tactical_doc(record.tactical),
            "actionPlan": (
                {"text": plan.text, "dueAt": plan.due_at, "at": plan.at, "by": plan.by}
                if (plan := record.action_plan)
                else None
            ),
            "nps": record.nps,
            "resolvedAt": resolved_at(record),
            "recovery": (
                {"feedbackId": r.feedback_id, "nps": r.nps, "at": r.at} if (r := record.recovery) else None
            ),
            "rootCause": cause_document(record.root_cause),
            **_scope_keys(record.region, record.kind, record.assignee_id),
        }

    @staticmethod
    def from_document(document: Document) -> Alert:
        reply = document.get("reply")
        return Alert(
            id=document["_id"],
            customer_id=document.get("customerId"),
            region=document["region"],
            touchpoint=document["touchpoint"],
            feedback_id=document.get("feedbackId"),
            case_id=document.get("caseId"),
            reasons=tuple(AlertReason(r) for r in document.get("reasons", ())),
            state=AlertState(document["state"]),
            assignee_id=document.get("assigneeId"),
            raised_at=document["occurredAt"],
            acknowledge_due_at=document["acknowledgeDueAt"],
            resolve_due_at=document["resolveDueAt"],
            escalated_at=document.get("escalatedAt"),
            escalated_to=document.get("escalatedTo"),
            resolution=document.get("resolution"),
            reply=Reply(reply["message"], reply["channel"], reply["at"]) if reply else None,
            history=tuple(
                AlertStep(AlertAction(h["action"]), h["at"], h["by"], h.get("note"), h.get("assigneeId"))
                for h in document.get("history", ())
            ),
            version=int(document["version"]),
            kind=AlertKind(document.get("kind", AlertKind.OPERATIONAL.value)),
            tactical=_tactical(document.get("tactical")),
            action_plan=(
                ActionPlan(plan["text"], plan["dueAt"], plan["at"], plan["by"])
                if (plan := document.get("actionPlan"))
                else None
            ),
            nps=document.get("nps"),
            recovery=(
                Recovery(r["feedbackId"], r.get("nps"), r["at"]) if (r := document.get("recovery")) else None
            ),
            root_cause=cause_from(document.get("rootCause")),
        )

    def __init__(self, db: Database, scope: RowScope | None = None) -> None:
        super().__init__(db, scope)
        self._handling = HandlingRepository(db)

    async def insert(self, record: Alert, *, session: Session | None = None) -> None:
        """Store a new alert and its handling's entry (in ``session``'s transaction: give one)."""
        await super().insert(record, session=session)
        await self._handling.keep([self.to_document(record)], session=session)

    async def insert_many(
        self, records: Iterable[Alert], *, session: Session | None = None, today: date | None = None
    ) -> None:
        """Store new alerts in one bulk write, and their handling's entries: those raised before ``today``
        (UTC; now's by default) in their days' whole packs (``HandlingRepository.keep``)."""
        documents = [self.to_document(r) for r in records]
        if documents:
            await self._collection.insert_many(documents, ordered=False, session=session)
            new_before = today or datetime.now(UTC).date()
            await self._handling.keep(documents, session=session, new_before=new_before)

    async def save(self, alert: Alert, *, session: Session | None = None) -> None:
        """Store a changed alert, unless someone changed it since it was read (version - 1), and its
        handling's entry (in ``session``'s transaction: give one)."""
        await self.save_version(alert, read_version=alert.version - 1, session=session)
        await self._handling.keep([self.to_document(alert)], session=session)

    async def handling_documents(self) -> AsyncIterator[Document]:
        """Every stored alert, with the fields its handling is computed from (to rebuild or verify packs)."""
        async for document in self._collection.find({}, dict.fromkeys(HANDLING_FIELDS, 1)):
            yield document

    async def _keep_handling(self, ids: Sequence[str], *, session: Session | None) -> None:
        """Set the handling entries of these stored alerts from what they are now."""
        if ids:
            projection = dict.fromkeys(HANDLING_FIELDS, 1)
            found = self._collection.find({"_id": {"$in": list(ids)}}, projection, session=session)
            await self._handling.keep([d async for d in found], session=session)

    async def refresh_scope_keys(self, *, batch: int = 500) -> int:
        """Store the current scope keys on alerts stored without them or with an older form of them (see
        ``backfill``): an alert whose region, kind or assignee changed meanwhile is skipped. How many it
        updated."""
        stale = {"scopeKeysVersion": {"$in": [None, *range(1, SCOPE_KEYS_VERSION)]}}
        fields = {"region": 1, "kind": 1, "assigneeId": 1}
        return await backfill(self._collection, stale, fields, _current_scope_keys, batch=batch)

    async def record_recovery(self, feedback: Feedback, *, session: Session | None = None) -> None:
        """Note ``feedback`` as its customer's next response on their alerts resolved shortly before it.

        Each alert keeps the earliest response after its (latest) resolution within ``RECOVERY_WINDOW``.
        """
        if feedback.customer_id is None:
            return
        at = feedback.occurred_at
        recovering = {
            "customerId": feedback.customer_id,
            "resolvedAt": {"$gte": at - RECOVERY_WINDOW, "$lt": at},
            # No recovery yet, or a later one. Not written as an $or: the embedded database scans the
            # whole collection for a query with a top-level $or, on every response submitted.
            "recovery.at": {"$not": {"$lte": at}},
        }
        ids = [d["_id"] async for d in self._collection.find(recovering, {"_id": 1}, session=session)]
        if not ids:
            return
        await self._collection.update_many(
            {"_id": {"$in": ids}, **recovering},
            {"$set": {"recovery": {"feedbackId": feedback.id, "nps": feedback.nps, "at": at}}},
            session=session,
        )
        await self._keep_handling(ids, session=session)

    async def by_feedback(self, feedback_ids: Sequence[str]) -> dict[str, Alert]:
        """The alert raised by each of these responses, if any."""
        query = self._in_scope({"feedbackId": {"$in": list(feedback_ids)}})
        return self.by_feedback_of([d async for d in self._collection.find(query)])

    def by_feedback_of(self, documents: Sequence[Document]) -> dict[str, Alert]:
        """The alerts among ``documents`` by the response that raised them."""
        return {d["feedbackId"]: self.from_document(d) for d in documents}

    async def queue(self, which: AlertQueue, *, first: int, after: Position | None) -> Page[Alert]:
        """A page of a work queue, next deadline first (``Position.at`` is the deadline)."""
        query: dict[str, Any] = {"state": {"$in": [s.value for s in which.states]}}
        if which.assignee_id is not None:
            query["assigneeId"] = which.assignee_id
        if which.overdue_at is not None:
            query["dueAt"] = {"$lt": which.overdue_at}
        if which.kinds:
            query["kind"] = {"$in": [k.value for k in which.kinds]}
        position = (after.at, after.id) if after is not None else None
        pipeline = keyset_page(self._in_scope(query), "dueAt", limit=first + 1, after=position)
        documents = await (await self._collection.aggregate(pipeline)).to_list(None)
        return Page([self.from_document(d) for d in documents[:first]], has_next=len(documents) > first)

    async def open_counts(self, assignee_ids: Sequence[str]) -> dict[str, int]:
        """How many open or acknowledged alerts each employee holds (zero included), in any scope.

        Routing weighs everyone's load, so this count is not limited to the rows the caller may read.
        """
        return await self._count_by("assigneeId", assignee_ids, {"state": {"$in": OPEN_STATES}})

    async def overdue(self, now: datetime, *, limit: int = 500) -> list[Alert]:
        """Unescalated alerts whose next deadline has passed."""
        query = narrowed(
            {"state": {"$in": OPEN_STATES}, "escalatedAt": None, "dueAt": {"$lt": now}}, self._scope
        )
        return [self.from_document(d) async for d in self._collection.find(query).limit(limit)]

    async def escalate(
        self, alert: Alert, *, manager_id: str | None, now: datetime, session: Session | None = None
    ) -> bool:
        """Mark ``alert`` escalated unless another sweep already did: true when this call did it (in
        ``session``'s transaction with its handling's entry: give one)."""
        step = escalation_step(manager_id=manager_id, now=now)
        result = await self._collection.update_one(
            {"_id": alert.id, "escalatedAt": None},
            {
                "$set": {"escalatedAt": now, "escalatedTo": manager_id},
                "$push": {"history": _step_doc(step)},
                "$inc": {"version": 1},
            },
            session=session,
        )
        if result.matched_count != 1:
            return False
        await self._keep_handling([alert.id], session=session)
        return True
