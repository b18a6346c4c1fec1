"""Churn by period: customers who became churned, and the rate against the active base."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.aggregates.groups import CustomerAxis
from domain.aggregates.periods import Interval, Period, buckets, time_zone
from domain.aggregates.stats import ratio


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """When a customer joined and, if so, churned, with what it is grouped by."""

    region: str
    segment: str
    joined_at: datetime
    churned_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChurnFilter:
    """The period (local days) and, optionally, some regions and segments."""

    period: Period
    time_zone: str = "UTC"
    regions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChurnFigures:
    """A bucket's base, newcomers and churned customers (whenever they joined)."""

    active_at_start: int
    joined: int
    churned: int
    rate: float | None  # churned / active at start


@dataclass(frozen=True, slots=True)
class ChurnRow:
    """One time bucket and group, with its figures unless suppressed."""

    period: Period
    region: str | None
    segment: str | None
    figures: ChurnFigures | None  # None: suppressed


class LifecycleReader(Protocol):
    """Every customer's lifecycle in the caller's scope, optionally of some regions and segments."""

    async def lifecycles(self, *, regions: Sequence[str], segments: Sequence[str]) -> list[Lifecycle]: ...


async def churn(
    reader: LifecycleReader,
    where: ChurnFilter,
    by: Sequence[CustomerAxis],
    interval: Interval | None,
    *,
    min_customers: int,
) -> list[ChurnRow]:
    """Rows per time bucket and group, in time then group order.

    A bucket's population is the customers active at its start plus those who joined during it; fewer
    of them than the threshold and it is suppressed.
    """
    period = where.period.checked(interval)
    zone = time_zone(where.time_zone)
    customers = await reader.lifecycles(regions=where.regions, segments=where.segments)
    groups: dict[tuple[str | None, str | None], list[Lifecycle]] = {}
    for customer in customers:
        key = (
            customer.region if CustomerAxis.REGION in by else None,
            customer.segment if CustomerAxis.SEGMENT in by else None,
        )
        groups.setdefault(key, []).append(customer)
    rows = []
    for span in buckets(period, interval):
        start, end = span.bounds(zone)
        for (region, segment), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
            active = [
                c for c in group if c.joined_at < start and (c.churned_at is None or c.churned_at >= start)
            ]
            joined = [c for c in group if start <= c.joined_at < end]
            churned = sum(1 for c in group if c.churned_at is not None and start <= c.churned_at < end)
            if not active and not joined:
                continue
            shown = len(active) + len(joined) >= min_customers
            figures = ChurnFigures(len(active), len(joined), churned, ratio(churned, len(active)))
            rows.append(ChurnRow(span, region, segment, figures if shown else None))
    return rows
