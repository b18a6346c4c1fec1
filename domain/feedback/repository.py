"""Persistence of feedback responses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.customer_records import NEWEST_FIRST, CustomerRecords
from domain.feedback.models import Feedback, FeedbackChannel, ScoreItem, Touchpoint
from domain.store import Document, IndexSpec


@dataclass(frozen=True, slots=True)
class Scores:
    """The scores of one response, read without its comment or links."""

    occurred_at: datetime
    nps: int | None
    csat: int | None
    items: tuple[ScoreItem, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """One response as a customer's standing and the value of experience read it: when, the scores, and
    the touchpoint, region and segment it was given in."""

    id: str
    at: datetime
    nps: int | None
    csat: int | None
    touchpoint: Touchpoint
    region: str | None
    segment: str | None


def idempotency(submitted_by: str, key: str) -> str:
    """One indexed value per submitter and key."""
    return f"{submitted_by}\x1f{key}"


def _items(document: Document) -> tuple[ScoreItem, ...]:
    return tuple(
        ScoreItem(i["dimension"], int(i["expectation"]), int(i["perception"]))
        for i in document.get("items", ())
    )


def scores_of(rows: Sequence[Document]) -> list[Scores]:
    """The scores of stored responses (or of rows with their ``occurredAt``, ``nps``, ``csat`` and
    ``items``), in the order given."""
    return [Scores(r["occurredAt"], r.get("nps"), r.get("csat"), _items(r)) for r in rows]


class FeedbackRepository(CustomerRecords[Feedback]):
    """Feedback responses; ``occurredAt`` is the time of the experience, not of receipt."""

    collection_name = "feedback"
    extra_indexes = ((("region", 1), ("occurredAt", -1)), (("occurredAt", 1),))

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        # Idempotency keys are unique per submitter; responses without one (imports, seeds) are not indexed.
        return [
            *super().indexes(),
            IndexSpec(cls.collection_name, (("idempotency", 1),), unique=True, sparse=True),
        ]

    async def by_idempotency_keys(self, submitted_by: str, keys: Sequence[str]) -> dict[str, Feedback]:
        """The responses this submitter sent before with these keys, by key (whatever the caller's scope)."""
        wanted = [idempotency(submitted_by, key) for key in dict.fromkeys(keys)]
        found = self._collection.find({"idempotency": {"$in": wanted}})
        return {d["idempotencyKey"]: self.from_document(d) async for d in found}

    async def by_idempotency_key(self, submitted_by: str, key: str) -> Feedback | None:
        """The response this submitter sent before with this key, if any (whatever the caller's scope)."""
        document = await self._collection.find_one({"idempotency": idempotency(submitted_by, key)})
        return self.from_document(document) if document else None

    async def every(self) -> AsyncIterator[Feedback]:
        """Every response in scope, in no particular order (for recomputing rollups)."""
        async for document in self._collection.find(self._in_scope({})):
            yield self.from_document(document)

    @staticmethod
    def to_document(record: Feedback) -> Document:
        return {
            "_id": record.id,
            "customerId": record.customer_id,
            "region": record.region,
            "segment": record.segment,
            "channel": record.channel.value,
            "touchpoint": record.touchpoint.value,
            "occurredAt": record.occurred_at,
            "receivedAt": record.received_at,
            "nps": record.nps,
            "csat": record.csat,
            "effort": record.effort,
            "items": [
                {"dimension": i.dimension, "expectation": i.expectation, "perception": i.perception}
                for i in record.items
            ],
            "comment": record.comment,
            "transactionId": record.transaction_id,
            "caseId": record.case_id,
            "interactionId": record.interaction_id,
            "submittedBy": record.submitted_by,
            "fingerprint": record.fingerprint,
            **(
                {"idempotency": idempotency(record.submitted_by, record.idempotency_key)}
                if record.submitted_by and record.idempotency_key
                else {}
            ),
            "idempotencyKey": record.idempotency_key,
        }

    @staticmethod
    def from_document(document: Document) -> Feedback:
        return Feedback(
            id=document["_id"],
            customer_id=document.get("customerId"),
            channel=FeedbackChannel(document["channel"]),
            touchpoint=Touchpoint(document["touchpoint"]),
            occurred_at=document["occurredAt"],
            received_at=document["receivedAt"],
            nps=document.get("nps"),
            csat=document.get("csat"),
            effort=document.get("effort"),
            items=_items(document),
            comment=document.get("comment"),
            transaction_id=document.get("transactionId"),
            case_id=document.get("caseId"),
            interaction_id=document.get("interactionId"),
            region=document.get("region"),
            segment=document.get("segment"),
            submitted_by=document.get("submittedBy"),
            idempotency_key=document.get("idempotencyKey"),
            fingerprint=document.get("fingerprint"),
        )

    async def dimension_counts(self) -> dict[str, int]:
        """How many responses in scope rate each service dimension, in one command (a scan: for audits).

        Intake refuses a dimension twice in one response, so items counted are responses.
        """
        pipeline = [
            {"$match": self._in_scope({"items.0": {"$exists": True}})},
            {"$unwind": "$items"},
            {"$group": {"_id": "$items.dimension", "n": {"$sum": 1}}},
        ]
        return {row["_id"]: int(row["n"]) async for row in await self._collection.aggregate(pipeline)}

    async def rename_dimension(self, old: str, new: str) -> int:
        """Rename dimension ``old`` to ``new`` in the items of every response in scope; how many changed.

        A response that rates ``new`` already keeps ``old``: renaming would rate one dimension twice.
        """
        query = {"$and": [{"items.dimension": old}, {"items.dimension": {"$ne": new}}]}
        result = await self._collection.update_many(
            self._in_scope(query),
            {"$set": {"items.$[item].dimension": new}},
            array_filters=[{"item.dimension": old}],
        )
        return result.matched_count

    @staticmethod
    def answer_from(document: Document) -> Answer:
        """A stored response as an ``Answer`` (from as little of it as ``answers`` reads)."""
        return Answer(
            document["_id"],
            document["occurredAt"],
            document.get("nps"),
            document.get("csat"),
            Touchpoint(document["touchpoint"]),
            document.get("region"),
            document.get("segment"),
        )

    async def answers(self, customer_ids: Sequence[str]) -> dict[str, list[Answer]]:
        """Every response of each customer, oldest first, in one command (no comment, items or links)."""
        query = self._in_scope({"customerId": {"$in": list(customer_ids)}})
        fields = dict.fromkeys(
            ("customerId", "occurredAt", "nps", "csat", "touchpoint", "region", "segment"), 1
        )
        found: dict[str, list[Answer]] = {c: [] for c in customer_ids}
        async for d in self._collection.find(query, fields):
            found[d["customerId"]].append(self.answer_from(d))
        for answers in found.values():
            answers.sort(key=lambda a: (a.at, a.id))
        return found

    async def scores(self, customer_ids: Sequence[str]) -> dict[str, list[Scores]]:
        """Every response's scores for each customer, newest first, in one command (one row per customer)."""
        pipeline = [
            {"$match": self._in_scope({"customerId": {"$in": list(customer_ids)}})},
            # Newest first, ties by id as on every page, so "the latest response" is one response.
            {"$sort": dict(NEWEST_FIRST)},
            {
                "$group": {
                    "_id": "$customerId",
                    "scores": {
                        "$push": {
                            "occurredAt": "$occurredAt",
                            "id": "$_id",
                            "nps": "$nps",
                            "csat": "$csat",
                            "items": "$items",
                        }
                    },
                }
            },
        ]
        result: dict[str, list[Scores]] = {c: [] for c in customer_ids}
        async for row in await self._collection.aggregate(pipeline):
            # $group does not promise to keep the order it was given: put it back.
            rows = sorted(row["scores"], key=lambda s: (s["occurredAt"], s["id"]), reverse=True)
            result[row["_id"]] = scores_of(rows)
        return result
