"""Per-customer experience and relationship figures shown on the customer's page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.feedback.models import satisfaction_index
from domain.feedback.repository import Scores
from domain.money import Money


@dataclass(frozen=True, slots=True)
class CustomerMetrics:
    """Headline figures of one customer."""

    responses: int
    last_nps: int | None
    csat_mean: float | None
    satisfaction_index: float | None
    open_cases: int
    lifetime_value: Money
    last_contact_at: datetime | None

    def days_since_last_contact(self, now: datetime) -> int | None:
        if self.last_contact_at is None:
            return None
        return max(0, (now - self.last_contact_at).days)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def compute_metrics(
    *,
    scores: Sequence[Scores],
    open_cases: int,
    lifetime_value: Money,
    contact_times: Iterable[datetime | None],
) -> CustomerMetrics:
    """Figures from all of a customer's responses (newest first) and contact times.

    The satisfaction index is the mean of the per-response indices, so each response weighs the same
    whatever its number of items. "Contact" is any interaction, case or feedback.
    """
    last_nps = next((s.nps for s in scores if s.nps is not None), None)
    csats = [float(s.csat) for s in scores if s.csat is not None]
    indices = [i for i in (satisfaction_index(s.items) for s in scores) if i is not None]
    times = [t for t in contact_times if t is not None]
    return CustomerMetrics(
        responses=len(scores),
        last_nps=last_nps,
        csat_mean=_mean(csats),
        satisfaction_index=_mean(indices),
        open_cases=open_cases,
        lifetime_value=lifetime_value,
        last_contact_at=max(times) if times else None,
    )
