"""Service-standard compliance: were alerts acknowledged and resolved within their due times?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Protocol

from domain.aggregates.disclosure import Atom, Disclosure, publishable_period, suppress
from domain.aggregates.periods import Period, local_day, month_start, time_zone
from domain.aggregates.stats import duration_in, nearest_rank, ratio, rounded
from domain.alerts.models import Alert, AlertAction, AlertState
from domain.errors import InvalidInput

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ComplianceFilter:
    """Alerts raised in the period (local days), optionally of some regions and touchpoints."""

    period: Period
    time_zone: str = "UTC"
    regions: tuple[str, ...] = ()
    touchpoints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ComplianceFigures:
    """How one touchpoint in one region kept its standard."""

    alerts: int
    acknowledged_in_time: int
    resolved_in_time: int
    acknowledged_in_time_share: float | None
    resolved_in_time_share: float | None
    breaches: int  # alerts that missed a due time, or are past one still undone
    escalations: int
    median_minutes_to_acknowledge: float | None
    median_minutes_to_resolve: float | None


@dataclass(frozen=True, slots=True)
class ComplianceRow:
    region: str
    touchpoint: str
    figures: ComplianceFigures | None  # None: suppressed


class AlertReader(Protocol):
    """Reads the alerts raised between two instants, in the caller's scope."""

    async def raised_between(
        self, start: datetime, end: datetime, *, regions: Sequence[str], touchpoints: Sequence[str]
    ) -> list[Alert]: ...


def first_step(alert: Alert, *actions: AlertAction) -> datetime | None:
    return next((step.at for step in alert.history if step.action in actions), None)


def last_step(alert: Alert, action: AlertAction) -> datetime | None:
    return next((step.at for step in reversed(alert.history) if step.action is action), None)


def _breached(alert: Alert, acknowledged: datetime | None, resolved: datetime | None, now: datetime) -> bool:
    late_ack = (acknowledged or now) > alert.acknowledge_due_at
    late_resolve = (resolved or now) > alert.resolve_due_at
    return late_ack or late_resolve


async def compliance(
    reader: AlertReader,
    where: ComplianceFilter,
    *,
    now: datetime,
    disclosure: Disclosure,
    reporting_zone: str,
) -> list[ComplianceRow]:
    """One row per region and touchpoint with alerts in the period, in region then touchpoint order."""
    if disclosure.protected:
        groups, hidden = await _protected_groups(reader, where, disclosure.min_customers, now, reporting_zone)
    else:
        period = where.period.checked(None)
        start, end = period.bounds(time_zone(where.time_zone))
        alerts = await reader.raised_between(start, end, regions=where.regions, touchpoints=where.touchpoints)
        groups = {}
        for alert in alerts:
            groups.setdefault((alert.region, alert.touchpoint), []).append(alert)
        small = {k for k, g in groups.items() if len(_customers(g)) < disclosure.min_customers}
        hidden = {k: groups.pop(k) for k in small}
    rows = [
        ComplianceRow(region, touchpoint, _figures(group, now))
        for (region, touchpoint), group in groups.items()
    ]
    rows += [ComplianceRow(*key, None) for key in set(hidden) - set(groups)]
    return sorted(rows, key=lambda row: (row.region, row.touchpoint))


def _customers(group: list[Alert]) -> frozenset[str]:
    return frozenset(a.customer_id for a in group if a.customer_id is not None)


async def _protected_groups(
    reader: AlertReader, where: ComplianceFilter, minimum: int, now: datetime, zone_name: str
) -> tuple[dict[tuple[str, str], list[Alert]], dict[tuple[str, str], list[Alert]]]:
    """The shown and suppressed alerts by region and touchpoint, on the publication lattice.

    Rows of the lattice are a month and region; their cells are split by touchpoint.
    """
    if where.time_zone != zone_name:
        raise InvalidInput(f"company-wide aggregates are kept in {zone_name} only", field="timeZone")
    zone = time_zone(zone_name)
    period = publishable_period(where.period, None, today=local_day(now, zone))
    start, end = period.bounds(zone)
    # Every touchpoint, so that each row's pattern is the same whatever the request filters.
    alerts = await reader.raised_between(start, end, regions=where.regions, touchpoints=())
    rows: dict[tuple[date, str], dict[str, list[Alert]]] = {}
    for alert in alerts:
        row = (month_start(local_day(alert.raised_at, zone)), alert.region)
        rows.setdefault(row, {}).setdefault(alert.touchpoint, []).append(alert)
    shown: dict[tuple[str, str], list[Alert]] = {}
    hidden: dict[tuple[str, str], list[Alert]] = {}
    for (_, region), cells in rows.items():
        pattern = suppress(
            [Atom((tp,), _customers(g), len(g)) for tp, g in cells.items()], axes=1, minimum=minimum
        )
        for touchpoint, group in cells.items():
            if where.touchpoints and touchpoint not in where.touchpoints:
                continue
            target = shown if pattern.shows(0, touchpoint) else hidden
            target.setdefault((region, touchpoint), []).extend(group)
    return shown, hidden


def _figures(group: list[Alert], now: datetime) -> ComplianceFigures:
    to_acknowledge: list[Fraction] = []
    to_resolve: list[Fraction] = []
    acknowledged_in_time = resolved_in_time = breaches = 0
    for alert in group:
        # Resolving without a separate acknowledgement acknowledges too.
        acknowledged = first_step(alert, AlertAction.ACKNOWLEDGED, AlertAction.RESOLVED)
        resolved = last_step(alert, AlertAction.RESOLVED) if alert.state is AlertState.RESOLVED else None
        if acknowledged is not None:
            to_acknowledge.append(duration_in(MINUTE, acknowledged - alert.raised_at))
            acknowledged_in_time += acknowledged <= alert.acknowledge_due_at
        if resolved is not None:
            to_resolve.append(duration_in(MINUTE, resolved - alert.raised_at))
            resolved_in_time += resolved <= alert.resolve_due_at
        breaches += _breached(alert, acknowledged, resolved, now)
    return ComplianceFigures(
        alerts=len(group),
        acknowledged_in_time=acknowledged_in_time,
        resolved_in_time=resolved_in_time,
        acknowledged_in_time_share=ratio(acknowledged_in_time, len(group)),
        resolved_in_time_share=ratio(resolved_in_time, len(group)),
        breaches=breaches,
        escalations=sum(alert.escalated_at is not None for alert in group),
        median_minutes_to_acknowledge=_rounded(nearest_rank(to_acknowledge, 50)),
        median_minutes_to_resolve=_rounded(nearest_rank(to_resolve, 50)),
    )


def _rounded(value: Fraction | None) -> float | None:
    return None if value is None else rounded(value)
