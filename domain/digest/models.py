"""A day's digest of the loop, for some regions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.standards.models import TargetMetric


@dataclass(frozen=True, slots=True)
class DigestBreach:
    """A tactical breach open during the day: raised that day, or still open at its start."""

    alert_id: str
    region: str
    touchpoint: str
    metric: TargetMetric
    figure: float
    target: float
    window_days: int
    raised_at: datetime
    cleared_at: datetime | None


@dataclass(frozen=True, slots=True)
class ResolvedCause:
    """What was resolved during the day with one root cause."""

    cause: str
    category: str
    resolved: int
    notes: tuple[str, ...]  # the first few free texts given with the cause


@dataclass(frozen=True, slots=True)
class RisingCause:
    """A root cause that rose significantly over the week ending on the day, against the four weeks before."""

    cause: str
    category: str
    count: int
    baseline_count: int
    expected: float
    p_value: float


@dataclass(frozen=True, slots=True)
class Digest:
    """One local day of the reporting time zone, for some regions."""

    day: date
    regions: tuple[str, ...]  # empty: the caller's whole scope
    new_alerts: tuple[str, ...]  # ids of the operational alerts raised during the day, oldest first
    breaches: tuple[DigestBreach, ...]
    resolved: tuple[ResolvedCause, ...]  # most resolved first
    rising: tuple[RisingCause, ...] = ()  # most first
