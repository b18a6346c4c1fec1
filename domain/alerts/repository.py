"""Persistence of alerts: the customer's list, the work queues, optimistic saves and the escalation sweep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from domain.alerts.models import Alert, AlertAction, AlertReason, AlertState, AlertStep, Reply
from domain.alerts.rules import escalation_step
from domain.customer_records import CustomerRecords
from domain.paging import Page, Position
from domain.scope import RowScope, any_of, narrowed
from domain.store import Document

OPEN_STATES = [AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value]


@dataclass(frozen=True, slots=True)
class AlertQueue:
    """Which alerts a work queue shows; it is always ordered by the next deadline, oldest first."""

    states: tuple[AlertState, ...] = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
    overdue_at: datetime | None = None  # only alerts whose next deadline passed before this moment
    assignee_id: str | None = None


def _step_doc(step: AlertStep) -> Document:
    return {
        "action": step.action.value,
        "at": step.at,
        "by": step.by,
        "note": step.note,
        "assigneeId": step.assignee_id,
    }


class AlertRepository(CustomerRecords[Alert]):
    """Alerts; ``occurredAt`` is when the alert was raised and ``dueAt`` its next deadline."""

    collection_name = "alerts"
    extra_indexes: ClassVar[tuple[tuple[tuple[str, int], ...], ...]] = (
        (("region", 1), ("state", 1), ("dueAt", 1), ("_id", 1)),
        (("assigneeId", 1), ("state", 1), ("dueAt", 1), ("_id", 1)),
        (("state", 1), ("escalatedAt", 1), ("dueAt", 1)),
        (("feedbackId", 1),),
        (("occurredAt", 1),),
    )

    async def raised_between(
        self, start: datetime, end: datetime, *, regions: Sequence[str], touchpoints: Sequence[str]
    ) -> list[Alert]:
        """Alerts in scope raised from ``start`` up to ``end``, of these regions and touchpoints if given."""
        pipeline = [
            {"$match": {"occurredAt": {"$gte": start, "$lt": end}}},
            {"$match": self._in_scope(any_of(region=regions, touchpoint=touchpoints))},
        ]
        return [self.from_document(d) async for d in await self._collection.aggregate(pipeline)]

    async def customers_with_open_alerts(self) -> set[str]:
        """The customers in scope with an alert not yet resolved."""
        pipeline = [
            {"$match": {"state": {"$in": [AlertState.OPEN.value, AlertState.ACKNOWLEDGED.value]}}},
            {"$match": self._in_scope({"customerId": {"$ne": None}})},
            {"$group": {"_id": "$customerId"}},
        ]
        return {row["_id"] async for row in await self._collection.aggregate(pipeline)}

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
        )

    async def save(self, alert: Alert) -> None:
        """Store a changed alert, unless someone changed it since it was read (version - 1)."""
        await self.save_version(alert, read_version=alert.version - 1)

    async def by_feedback(self, feedback_ids: Sequence[str]) -> dict[str, Alert]:
        """The alert raised by each of these responses, if any."""
        query = self._in_scope({"feedbackId": {"$in": list(feedback_ids)}})
        return {d["feedbackId"]: self.from_document(d) async for d in self._collection.find(query)}

    async def queue(self, which: AlertQueue, *, first: int, after: Position | None) -> Page[Alert]:
        """A page of a work queue, next deadline first (``Position.at`` is the deadline)."""
        query: dict[str, Any] = {"state": {"$in": [s.value for s in which.states]}}
        if which.assignee_id is not None:
            query["assigneeId"] = which.assignee_id
        if which.overdue_at is not None:
            query["dueAt"] = {"$lt": which.overdue_at}
        if after is not None:
            query = {
                "$and": [
                    query,
                    {"$or": [{"dueAt": {"$gt": after.at}}, {"dueAt": after.at, "_id": {"$gt": after.id}}]},
                ]
            }
        documents = (
            await self._collection.find(self._in_scope(query))
            .sort([("dueAt", 1), ("_id", 1)])
            .limit(first + 1)
            .to_list()
        )
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

    async def escalate(self, alert: Alert, *, manager_id: str | None, now: datetime) -> bool:
        """Mark ``alert`` escalated unless another sweep already did: true when this call did it."""
        step = escalation_step(manager_id=manager_id, now=now)
        result = await self._collection.update_one(
            {"_id": alert.id, "escalatedAt": None},
            {
                "$set": {"escalatedAt": now, "escalatedTo": manager_id},
                "$push": {"history": _step_doc(step)},
                "$inc": {"version": 1},
            },
        )
        return result.matched_count == 1
