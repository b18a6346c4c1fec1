"""The vocabulary every list starts with, so that a fresh database accepts feedback, cases and their root
causes at once."""

from __future__ import annotations

from datetime import datetime

from domain.lists.models import PARENT_KINDS, ListEntry, ListKind, ManagedList

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
    ListKind.ROOT_CAUSE: (
        ("carrier-delay", "Carrier delay"),
        ("wrong-address", "Wrong delivery address"),
        ("damaged-in-transit", "Damaged in transit"),
        ("wrong-charge", "Wrong charge"),
        ("unclear-invoice", "Unclear invoice"),
        ("faulty-product", "Faulty product"),
        ("not-as-described", "Not as described"),
        ("unfriendly-staff", "Unfriendly staff"),
        ("untrained-staff", "Staff lacked training"),
        ("website-outage", "Website outage"),
        ("confusing-website", "Confusing website"),
        ("slow-refund", "Slow refund"),
        ("account-access", "Account access problem"),
    ),
}
# The category (a ``CASE_CATEGORY`` code) each default root cause belongs to.
DEFAULT_PARENTS: dict[str, str] = {
    "carrier-delay": "delivery",
    "wrong-address": "delivery",
    "damaged-in-transit": "delivery",
    "wrong-charge": "billing",
    "unclear-invoice": "billing",
    "faulty-product": "product-quality",
    "not-as-described": "product-quality",
    "unfriendly-staff": "staff",
    "untrained-staff": "staff",
    "website-outage": "website",
    "confusing-website": "website",
    "slow-refund": "returns",
    "account-access": "account",
}


def default_codes(kind: ListKind) -> tuple[str, ...]:
    """The codes a list of ``kind`` starts with, in order."""
    return tuple(code for code, _ in DEFAULT_ENTRIES.get(kind, ()))


def default_entries(kind: ListKind, *, at: datetime | None = None) -> tuple[ListEntry, ...]:
    """The entries a list of ``kind`` starts with, stamped ``at`` (no one changed them)."""
    return tuple(
        ListEntry(
            code, label, parent=DEFAULT_PARENTS.get(code) if kind in PARENT_KINDS else None, updated_at=at
        )
        for code, label in DEFAULT_ENTRIES.get(kind, ())
    )


def default_list(kind: ListKind) -> ManagedList:
    """The list of ``kind`` as it is before anything was stored (version 0)."""
    return ManagedList(kind, default_entries(kind))
