"""Complaints for a Pareto view: counts by category and channel, time to resolve, reopen rate.

Complaint cases are few next to feedback, so these figures are computed from the cases of the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Protocol

from domain.aggregates.periods import Period, time_zone
from domain.aggregates.stats import nearest_rank, ratio, rounded
from domain.crm.models import Case

HOUR = 3600


class ComplaintAxis(StrEnum):
    """What complaints are counted by."""

    CATEGORY = "category"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class ComplaintFilter:
    """Complaint cases opened in the period (local days), optionally of some regions and channels."""

    period: Period
    time_zone: str = "UTC"
    regions: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComplaintFigures:
    """A row's figures; shares are of the complaints in the rows that are shown."""

    complaints: int
    share: float
    cumulative_share: float
    resolved: int
    median_hours_to_resolve: float | None
    p90_hours_to_resolve: float | None
    reopened: int
    reopen_rate: float | None


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    """One category and/or channel, with its figures unless suppressed."""

    category: str | None
    channel: str | None
    figures: ComplaintFigures | None  # None: suppressed


class ComplaintReader(Protocol):
    """Reads the complaint cases opened between two instants, in the caller's scope."""

    async def complaints(
        self, start: datetime, end: datetime, *, regions: Sequence[str], channels: Sequence[str]
    ) -> list[Case]: ...


def resolved_at(case: Case) -> datetime | None:
    """When a case that is no longer open was last resolved or closed."""
    if case.status.is_open:
        return None
    return next((h.at for h in reversed(case.history) if not h.status.is_open), None)


def was_reopened(case: Case) -> bool:
    """Whether the case went back to open after being resolved or closed."""
    statuses = [h.status for h in case.history]
    return any(not a.is_open and b.is_open for a, b in pairwise(statuses))


async def complaints(
    reader: ComplaintReader,
    where: ComplaintFilter,
    by: Sequence[ComplaintAxis],
    *,
    min_customers: int,
) -> list[ComplaintRow]:
    """Rows by ``by``, most complaints first (shown rows, then suppressed ones), with cumulative shares."""
    period = where.period.checked(None)
    start, end = period.bounds(time_zone(where.time_zone))
    cases = await reader.complaints(start, end, regions=where.regions, channels=where.channels)
    groups: dict[tuple[str | None, str | None], list[Case]] = {}
    for case in cases:
        key = (
            case.category if ComplaintAxis.CATEGORY in by else None,
            case.channel.value if ComplaintAxis.CHANNEL in by else None,
        )
        groups.setdefault(key, []).append(case)
    shown = {k: v for k, v in groups.items() if len({c.customer_id for c in v}) >= min_customers}
    # Suppressed rows stay out of the shares, or the shares would give their counts away.
    base = sum(len(v) for v in shown.values())
    rows: list[ComplaintRow] = []
    running = 0
    for key, group in sorted(shown.items(), key=lambda kv: (-len(kv[1]), str(kv[0]))):
        running += len(group)
        rows.append(ComplaintRow(*key, _figures(group, running, base)))
    hidden = sorted((k for k in groups if k not in shown), key=str)
    rows.extend(ComplaintRow(*key, None) for key in hidden)
    return rows


def _figures(group: list[Case], running: int, base: int) -> ComplaintFigures:
    hours = [
        (done - case.opened_at).total_seconds() / HOUR
        for case in group
        if (done := resolved_at(case)) is not None
    ]
    reopened = sum(was_reopened(case) for case in group)
    return ComplaintFigures(
        complaints=len(group),
        share=rounded(Fraction(len(group), base)),
        cumulative_share=rounded(Fraction(running, base)),
        resolved=len(hours),
        median_hours_to_resolve=_hours(nearest_rank(hours, 50)),
        p90_hours_to_resolve=_hours(nearest_rank(hours, 90)),
        reopened=reopened,
        reopen_rate=ratio(reopened, len(group)),
    )


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
