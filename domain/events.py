"""Loop events pushed to subscribers: an alert raised or updated, a response received, a digest published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.alerts.models import Alert
from domain.digest.models import Digest
from domain.feedback.models import Feedback


class EventKind(StrEnum):
    """What happened."""

    ALERT_RAISED = "ALERT_RAISED"
    ALERT_UPDATED = "ALERT_UPDATED"
    FEEDBACK_RECEIVED = "FEEDBACK_RECEIVED"
    DIGEST_PUBLISHED = "DIGEST_PUBLISHED"


@dataclass(frozen=True, slots=True)
class Event:
    """One change, with the record as it is after it."""

    kind: EventKind
    alert: Alert | None = None
    feedback: Feedback | None = None
    digest: Digest | None = None


class EventSource(Protocol):
    """Where a process's subscribers get events from (every server process sees every change)."""

    def subscribe(self) -> AsyncIterator[Event]: ...
