"""The vocabulary every list starts with, so that a fresh database accepts feedback and cases at once."""

from __future__ import annotations

from datetime import datetime

from domain.lists.models import ListEntry, ListKind, ManagedList

DEFAULT_ENTRIES: dict[ListKind, tuple[tuple[str, str], ...]] = {
    ListKind.SERVICE_DIMENSION: (
        ("speed", "Speed"),
        ("friendliness", "Friendliness"),
        ("competence", "Competence"),
        ("reliability", "Reliability"),
        ("value", "Value for money"),
        ("clarity", "Clarity"),
        ("availability", "Availability"),
    ),
    ListKind.CASE_CATEGORY: (
        ("billing", "Billing"),
        ("delivery", "Delivery"),
        ("product-quality", "Product quality"),
        ("staff", "Staff"),
        ("website", "Website"),
        ("returns", "Returns"),
        ("account", "Account"),
    ),
}


def default_codes(kind: ListKind) -> tuple[str, ...]:
    """The codes a list of ``kind`` starts with, in order."""
    return tuple(code for code, _ in DEFAULT_ENTRIES.get(kind, ()))


def default_entries(kind: ListKind, *, at: datetime | None = None) -> tuple[ListEntry, ...]:
    """The entries a list of ``kind`` starts with, stamped ``at`` (no one changed them)."""
    return tuple(ListEntry(code, label, updated_at=at) for code, label in DEFAULT_ENTRIES.get(kind, ()))


def default_list(kind: ListKind) -> ManagedList:
    """The list of ``kind`` as it is before anything was stored (version 0)."""
    return ManagedList(kind, default_entries(kind))
