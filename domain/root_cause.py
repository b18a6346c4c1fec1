"""Why something went wrong: the root cause recorded when an operational alert or a complaint is resolved.

The cause is a code of the company's ``ROOT_CAUSE`` managed list, under a case category (``delivery`` ->
``carrier-delay``); the category is kept as it was when the cause was recorded, with the free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.store import Document


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
