"""An audit entry, and the collector that turns one request's reads into entries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One request's reads of one customer's unmasked personal data."""

    id: str
    subject: str
    role: str
    customer_id: str
    fields: tuple[str, ...]
    operation: str | None
    request_id: str
    at: datetime


class AuditCollector:
    """Gathers the personal fields shown during one request, per customer, for one batched write."""

    def __init__(self) -> None:
        self._fields: defaultdict[str, set[str]] = defaultdict(set)

    def saw(self, customer_id: str, field: str) -> None:
        self._fields[customer_id].add(field)

    def drain(
        self,
        *,
        subject: str,
        role: str,
        operation: str | None,
        request_id: str,
        at: datetime,
        new_id: Callable[[], str],
    ) -> list[AuditEntry]:
        """One entry per customer whose personal data was shown since the last drain, fields sorted.

        A WebSocket keeps one context for all its operations and events, so each write takes only what is new.
        """
        shown, self._fields = self._fields, defaultdict(set)
        return [
            AuditEntry(new_id(), subject, role, customer_id, tuple(sorted(fields)), operation, request_id, at)
            for customer_id, fields in sorted(shown.items())
        ]
