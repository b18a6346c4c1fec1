"""Revenue at risk: lifetime value of customers with recent detractor feedback or an open alert.

Read from the customers' standings (``domain/standing``), which keep when each customer gave detractor
feedback, its open alerts and its lifetime value: one indexed read of the customers at risk, never the
feedback of the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.aggregates.disclosure import Atom, Disclosure, publishable_period, suppress
from domain.aggregates.groups import CustomerAxis
from domain.aggregates.periods import Period, local_day, month_start, time_zone
from domain.errors import InvalidInput
from domain.repositories import Repositories
from domain.standing.repository import AtRisk

MAX_WINDOW_DAYS = 366
DEFAULT_WINDOW_DAYS = 90


@dataclass(frozen=True, slots=True)
class RiskFilter:
    """Detractors of the last ``window_days`` up to ``as_of``; optionally some regions and segments."""

    as_of: datetime
    window_days: int = DEFAULT_WINDOW_DAYS
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
    repos: Repositories,
    where: RiskFilter,
    by: Sequence[CustomerAxis],
    *,
    disclosure: Disclosure,
    now: datetime,
    reporting_zone: str,
) -> list[RiskRow]:
    """One row per group and currency with customers at risk, in group order."""
    if not 1 <= where.window_days <= MAX_WINDOW_DAYS:
        raise InvalidInput(f"the window is 1 to {MAX_WINDOW_DAYS} days", field="windowDays")
    if disclosure.protected:
        _check_snapshot(where, now, reporting_zone)
    start = where.as_of - timedelta(days=where.window_days)
    # Regions select whole rows of the lattice; segments are filtered after its pattern is worked out, so
    # that the pattern is the same whatever the request filters.
    customers = [
        c
        for c in sorted(await repos.standings.at_risk(start, where.as_of), key=lambda c: c.customer_id)
        if not where.regions or c.region in where.regions
    ]
    minimum = disclosure.min_customers
    split = CustomerAxis.SEGMENT in by or bool(where.segments)
    visible = _shown_customers(customers, minimum, by_segment=split) if disclosure.protected else None
    groups: dict[tuple[str | None, str | None, str], list[AtRisk]] = {}
    for customer in customers:
        if where.segments and customer.segment not in where.segments:
            continue
        key = (
            customer.region if CustomerAxis.REGION in by else None,
            customer.segment if CustomerAxis.SEGMENT in by else None,
            customer.lifetime_value.currency,
        )
        groups.setdefault(key, [])
        if visible is None or customer.customer_id in visible:
            groups[key].append(customer)
    rows = []
    for (region, segment, currency), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
        # Protected groups add up shown cells only, each with enough customers; exact ones need the minimum.
        shown = bool(group) if visible is not None else len(group) >= minimum
        value = sum(c.lifetime_value.amount_minor for c in group)
        rows.append(RiskRow(region, segment, currency, RiskFigures(len(group), value) if shown else None))
    return rows


def _check_snapshot(where: RiskFilter, now: datetime, zone_name: str) -> None:
    """Company-wide revenue at risk is a month-end snapshot over the default window, so it cannot be taken
    apart by moving the window or the day."""
    zone = time_zone(zone_name)
    last_day = (where.as_of - timedelta(microseconds=1)).astimezone(zone).date()
    if where.window_days != DEFAULT_WINDOW_DAYS:
        raise InvalidInput(
            f"company-wide figures use the {DEFAULT_WINDOW_DAYS}-day window", field="windowDays"
        )
    try:
        publishable_period(Period(month_start(last_day), last_day), None, today=local_day(now, zone))
    except InvalidInput:
        raise InvalidInput(
            "company-wide figures are as of the last day of a past month", field="asOf"
        ) from None


def _shown_customers(customers: Sequence[AtRisk], minimum: int, *, by_segment: bool) -> set[str]:
    """The customers in shown cells of the lattice: rows are regions, split by currency and, within a
    currency, by segment (``by_segment``: the request counts segments)."""
    rows: dict[str, dict[tuple[str, str], list[AtRisk]]] = {}
    for customer in customers:
        atom = (customer.lifetime_value.currency, customer.segment)
        rows.setdefault(customer.region, {}).setdefault(atom, []).append(customer)
    shown: set[str] = set()
    for atoms in rows.values():
        # Published are each currency's figures, and each segment's within a currency.
        cells = {key: (key[0], "/".join(key)) for key in atoms}
        pattern = suppress(
            [
                Atom(cells[key], frozenset(c.customer_id for c in group), len(group))
                for key, group in atoms.items()
            ],
            axes=2,
            minimum=minimum,
        )
        for key, group in atoms.items():
            currency, pair = cells[key]
            if pattern.shows(1, pair) if by_segment else pattern.shows(0, currency):
                shown.update(c.customer_id for c in group)
    return shown
