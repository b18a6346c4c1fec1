"""Service-standard compliance: were alerts acknowledged and resolved within their due times?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from domain.aggregates.periods import Period, time_zone
from domain.aggregates.stats import nearest_rank, ratio
from domain.alerts.models import Alert, AlertAction, AlertState

MINUTE = 60


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
    reader: AlertReader, where: ComplianceFilter, *, now: datetime, min_customers: int
) -> list[ComplianceRow]:
    """One row per region and touchpoint with alerts in the period, in region then touchpoint order."""
    period = where.period.checked(None)
    start, end = period.bounds(time_zone(where.time_zone))
    alerts = await reader.raised_between(start, end, regions=where.regions, touchpoints=where.touchpoints)
    groups: dict[tuple[str, str], list[Alert]] = {}
    for alert in alerts:
        groups.setdefault((alert.region, alert.touchpoint), []).append(alert)
    rows = []
    for (region, touchpoint), group in sorted(groups.items()):
        customers = {a.customer_id for a in group if a.customer_id is not None}
        figures = _figures(group, now) if len(customers) >= min_customers else None
        rows.append(ComplianceRow(region, touchpoint, figures))
    return rows


def _figures(group: list[Alert], now: datetime) -> ComplianceFigures:
    to_acknowledge: list[float] = []
    to_resolve: list[float] = []
    acknowledged_in_time = resolved_in_time = breaches = 0
    for alert in group:
        # Resolving without a separate acknowledgement acknowledges too.
        acknowledged = first_step(alert, AlertAction.ACKNOWLEDGED, AlertAction.RESOLVED)
        resolved = last_step(alert, AlertAction.RESOLVED) if alert.state is AlertState.RESOLVED else None
        if acknowledged is not None:
            to_acknowledge.append((acknowledged - alert.raised_at).total_seconds() / MINUTE)
            acknowledged_in_time += acknowledged <= alert.acknowledge_due_at
        if resolved is not None:
            to_resolve.append((resolved - alert.raised_at).total_seconds() / MINUTE)
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
        median_minutes_to_acknowledge=_minutes(nearest_rank(to_acknowledge, 50)),
        median_minutes_to_resolve=_minutes(nearest_rank(to_resolve, 50)),
    )


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
