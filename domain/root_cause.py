"""Why something went wrong: the root cause recorded when an operational alert or a complaint is resolved.

The cause is a code of the company's ``ROOT_CAUSE`` managed list, under a case category (``delivery`` ->
``carrier-delay``); the category is kept as it was when the cause was recorded, with the free text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.errors import FieldError, ValidationFailed
from domain.lists.models import ListKind, ManagedList
from domain.store import Collection, Document

MAX_NOTE = 1000


@dataclass(frozen=True, slots=True)
class RootCause:
    """A recorded root cause: the code, its category then, what was said about it, when and by whom."""

    code: str
    category: str
    note: str
    at: datetime
    by: str


def cause_document(cause: RootCause | None) -> Document | None:
    if cause is None:
        return None
    return {
        "code": cause.code,
        "category": cause.category,
        "note": cause.note,
        "at": cause.at,
        "by": cause.by,
    }


async def cause_counts(collection: Collection, where: Document) -> dict[str, int]:
    """How many documents matching ``where`` carry each root cause code."""
    pipeline = [{"$match": where}, {"$group": {"_id": "$rootCause.code", "n": {"$sum": 1}}}]
    return {row["_id"]: int(row["n"]) async for row in await collection.aggregate(pipeline)}


def cause_from(document: Document | None) -> RootCause | None:
    if not document:
        return None
    return RootCause(document["code"], document["category"], document["note"], document["at"], document["by"])


class CauseSource(StrEnum):
    """What a root cause was recorded on."""

    ALERT = "ALERT"
    COMPLAINT = "COMPLAINT"


@dataclass(frozen=True, slots=True)
class Caused:
    """One recorded root cause, with where and for whom: what recurring issues are counted from."""

    source: CauseSource
    record_id: str
    customer_id: str | None
    region: str
    cause: RootCause


async def causes_recorded(
    collection: Collection, source: CauseSource, matches: Sequence[Document]
) -> list[Caused]:
    """The root causes on the documents that pass every stage of ``matches``, in one command."""
    pipeline = [
        *({"$match": match} for match in matches),
        {"$project": {"customerId": 1, "region": 1, "rootCause": 1}},
    ]
    return [
        Caused(source, d["_id"], d.get("customerId"), d["region"], cause)
        async for d in await collection.aggregate(pipeline)
        if (cause := cause_from(d.get("rootCause"))) is not None
    ]


async def rename_cause(collection: Collection, where: Document, new: str) -> int:
    """Give every document matching ``where`` the root cause code ``new`` (a new version); how many."""
    result = await collection.update_many(where, {"$set": {"rootCause.code": new}, "$inc": {"version": 1}})
    return result.matched_count


def record_cause(
    causes: ManagedList,
    *,
    code: str | None,
    note: str | None,
    at: datetime,
    by: str,
    field: str = "rootCause",
) -> RootCause:
    """The root cause ``code`` (an active entry of the ``ROOT_CAUSE`` list) with its free text, or
    ``ValidationFailed`` naming the fields: a missing, unknown or retired code, or no text."""
    assert causes.kind is ListKind.ROOT_CAUSE
    errors = []
    if not code:
        errors.append(FieldError(field, "REQUIRED", "name the root cause (a ROOT_CAUSE code)"))
    elif refusal := causes.refusal(field, code):
        errors.append(refusal)
    text = (note or "").strip()
    if not 1 <= len(text) <= MAX_NOTE:
        errors.append(
            FieldError(f"{field}Note", "REQUIRED", f"say what happened, 1 to {MAX_NOTE} characters")
        )
    if errors:
        raise ValidationFailed(errors)
    assert code is not None
    entry = causes.entry(code)
    assert entry is not None
    return RootCause(code, entry.parent or "", text, at, by)
