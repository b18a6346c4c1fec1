"""Revenue at risk: lifetime value of customers with recent detractor feedback or an open alert."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.aggregates.groups import CustomerAxis
from domain.customers.models import Customer
from domain.errors import InvalidInput
from domain.feedback.scores import DETRACTOR_AT_MOST
from domain.repositories import Repositories

MAX_WINDOW_DAYS = 366


@dataclass(frozen=True, slots=True)
class RiskFilter:
    """Detractors of the last ``window_days`` up to ``as_of``; optionally some regions and segments."""

    as_of: datetime
    window_days: int = 90
    regions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskFigures:
    """How many customers are at risk, and their lifetime value in minor units."""

    customers: int
    lifetime_value_minor: int


@dataclass(frozen=True, slots=True)
class RiskRow:
    """Customers at risk of one group and one currency, unless suppressed."""

    region: str | None
    segment: str | None
    currency: str
    figures: RiskFigures | None  # None: suppressed


async def revenue_at_risk(
    repos: Repositories, where: RiskFilter, by: Sequence[CustomerAxis], *, min_customers: int
) -> list[RiskRow]:
    """One row per group and currency with customers at risk, in group order."""
    if not 1 <= where.window_days <= MAX_WINDOW_DAYS:
        raise InvalidInput(f"the window is 1 to {MAX_WINDOW_DAYS} days", field="windowDays")
    start = where.as_of - timedelta(days=where.window_days)
    at_risk = await repos.feedback.detractors(start, where.as_of, at_most=DETRACTOR_AT_MOST)
    at_risk |= await repos.alerts.customers_with_open_alerts()
    groups: dict[tuple[str | None, str | None, str], list[Customer]] = {}
    for customer in (await repos.customers.get_many(sorted(at_risk))).values():
        if where.regions and customer.region not in where.regions:
            continue
        if where.segments and customer.segment.value not in where.segments:
            continue
        key = (
            customer.region if CustomerAxis.REGION in by else None,
            customer.segment.value if CustomerAxis.SEGMENT in by else None,
            customer.lifetime_value.currency,
        )
        groups.setdefault(key, []).append(customer)
    rows = []
    for (region, segment, currency), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        shown = len(group) >= min_customers
        value = sum(c.lifetime_value.amount_minor for c in group)
        rows.append(RiskRow(region, segment, currency, RiskFigures(len(group), value) if shown else None))
    return rows
