"""Who is doing what: per employee, team or region, how operational alerts were handled and what came of it.

Computed from the handling of the alerts raised in the period (``Handling``: a few fields per alert, the
customer's next response kept on the alert when it arrives), so a request costs the alerts of its period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Protocol

from domain.aggregates.disclosure import (
    Atom,
    Disclosure,
    Pattern,
    publishable_period,
    suppress,
)
from domain.aggregates.periods import (
    Interval,
    Period,
    bucket_span,
    bucket_start,
    local_day,
    month_start,
    time_zone,
)
from domain.aggregates.stats import duration_in, nearest_rank, ratio, rounded
from domain.alerts.models import Handling
from domain.employees.models import Employee
from domain.errors import InvalidInput
from domain.feedback.scores import DETRACTOR_AT_MOST

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# Company-wide rows never name an employee: a team cell handled by fewer employees than this is suppressed.
MIN_TEAM_EMPLOYEES = 3


class LoopGroup(StrEnum):
    """Whose handling a row is: the alert's assignee, the assignee's team, or the alert's region."""

    EMPLOYEE = "employee"
    TEAM = "team"
    REGION = "region"


@dataclass(frozen=True, slots=True)
class LoopFilter:
    """Alerts raised in the period (local days), of some regions and teams, or of one assignee."""

    period: Period
    time_zone: str = "UTC"
    regions: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    assignee_id: str | None = None  # only this employee's alerts (a frontline employee's own row)


@dataclass(frozen=True, slots=True)
class LoopFigures:
    """How a group's alerts were handled, and what came of them."""

    alerts: int
    acknowledged_in_time: int
    acknowledged_in_time_share: float | None
    resolved_in_time: int
    resolved_in_time_share: float | None
    median_minutes_to_acknowledge: float | None
    p90_minutes_to_acknowledge: float | None
    median_minutes_to_resolve: float | None
    p90_minutes_to_resolve: float | None
    escalations: int
    reopened: int
    reopen_rate: float | None
    open: int  # still not resolved now
    open_median_age_hours: float | None
    open_oldest_age_hours: float | None
    resolved: int
    recovery_responses: int  # resolved alerts whose customer answered again, with an NPS, in the window
    recovered: int  # of those, the next NPS is no longer a detractor's
    recovery_share: float | None
    mean_nps_change: float | None  # next NPS minus the NPS that raised the alert, where both are known


@dataclass(frozen=True, slots=True)
class LoopRow:
    """One time bucket and group, with its figures unless suppressed."""

    period: Period
    employee_id: str | None
    team: str | None
    region: str | None
    figures: LoopFigures | None  # None: suppressed


class HandlingReader(Protocol):
    """Reads the handling of the operational alerts raised between two instants, in the caller's scope."""

    async def handled_between(
        self, start: datetime, end: datetime, *, regions: Sequence[str], assignee_id: str | None = None
    ) -> list[Handling]: ...


class EmployeeReader(Protocol):
    """Reads employees by id (for their teams)."""

    async def get_many(self, ids: Sequence[str]) -> dict[str, Employee]: ...


@dataclass(frozen=True, slots=True)
class _Alert:
    """An alert's handling with the team it is counted in."""

    handling: Handling
    team: str

    def value(self, group: LoopGroup) -> str:
        if group is LoopGroup.EMPLOYEE:
            return self.handling.assignee_id or ""
        return self.team if group is LoopGroup.TEAM else self.handling.region


async def loop_performance(
    alerts: HandlingReader,
    employees: EmployeeReader,
    where: LoopFilter,
    group_by: Sequence[LoopGroup],
    interval: Interval | None,
    *,
    disclosure: Disclosure,
    now: datetime,
    reporting_zone: str,
) -> list[LoopRow]:
    """Rows per time bucket and group, in time then group order (shown rows with figures, suppressed ones
    without). Protected callers get the publication lattice: rows are a month and region, split by team."""
    if disclosure.protected and LoopGroup.EMPLOYEE in group_by:
        raise InvalidInput("company-wide loop performance is by team and region only", field="groupBy")
    zone_name = reporting_zone if disclosure.protected else where.time_zone
    if disclosure.protected and where.time_zone != reporting_zone:
        raise InvalidInput(f"company-wide aggregates are kept in {reporting_zone} only", field="timeZone")
    zone = time_zone(zone_name)
    if disclosure.protected:
        period = publishable_period(where.period, interval, today=local_day(now, zone))
    else:
        period = where.period.checked(interval)
    start, end = period.bounds(zone)
    handled = await alerts.handled_between(start, end, regions=where.regions, assignee_id=where.assignee_id)
    assignees = sorted({h.assignee_id for h in handled if h.assignee_id})
    teams = {e.id: e.team for e in (await employees.get_many(assignees)).values()} if assignees else {}
    every = [_Alert(h, teams.get(h.assignee_id or "", "")) for h in handled]
    # Protected rows are fixed whatever the request filters: teams are filtered after suppression. Without
    # the team axis an answer adds up the rows' totals, with it the rows' team cells.
    by_team = LoopGroup.TEAM in group_by or bool(where.teams)
    shown, hidden = (
        _protected(every, disclosure.min_customers, zone_name, by_team=by_team)
        if disclosure.protected
        else (every, [])
    )
    if where.teams:
        shown = [a for a in shown if a.team in where.teams]
        hidden = [a for a in hidden if a.team in where.teams]
    # Exact callers see every row, however few customers: the figures are about their staff's work, which
    # they see record by record anyway (the company-wide lattice applied its minimum to the cells above).
    groups: dict[tuple[date, tuple[str, ...]], list[_Alert]] = {}
    for alert in shown:
        groups.setdefault(_key(alert, group_by, interval, period, zone_name), []).append(alert)
    rows = []
    for (when, values), members in groups.items():
        rows.append(
            _row(when, values, group_by, interval, period, _figures([a.handling for a in members], now))
        )
    for when, values in {_key(a, group_by, interval, period, zone_name) for a in hidden} - set(groups):
        rows.append(_row(when, values, group_by, interval, period, None))
    return sorted(rows, key=lambda r: (r.period.first, r.employee_id or "", r.team or "", r.region or ""))


def _key(
    alert: _Alert, group_by: Sequence[LoopGroup], interval: Interval | None, period: Period, zone: str
) -> tuple[date, tuple[str, ...]]:
    day = local_day(alert.handling.raised_at, time_zone(zone))
    when = bucket_start(day, interval) if interval is not None else period.first
    return when, tuple(alert.value(g) for g in group_by)


def _row(
    when: date,
    values: tuple[str, ...],
    group_by: Sequence[LoopGroup],
    interval: Interval | None,
    period: Period,
    figures: LoopFigures | None,
) -> LoopRow:
    named = dict(zip(group_by, values, strict=True))
    return LoopRow(
        period=bucket_span(when, period, interval),
        employee_id=named.get(LoopGroup.EMPLOYEE),
        team=named.get(LoopGroup.TEAM),
        region=named.get(LoopGroup.REGION),
        figures=figures,
    )


def _protected(
    alerts: list[_Alert], minimum: int, zone: str, *, by_team: bool
) -> tuple[list[_Alert], list[_Alert]]:
    """The alerts of shown and of suppressed cells: rows are a month and region, cells its teams.

    A team cell handled by fewer than ``MIN_TEAM_EMPLOYEES`` employees is suppressed like a small one, the
    suppressed teams of a row together are handled by none or at least that many, and a row handled by fewer
    is suppressed whole. ``by_team``: the team cells are asked for, else the rows' totals.
    """
    rows: dict[tuple[date, str], dict[str, list[_Alert]]] = {}
    for alert in alerts:
        month = month_start(local_day(alert.handling.raised_at, time_zone(zone)))
        rows.setdefault((month, alert.handling.region), {}).setdefault(alert.team, []).append(alert)
    shown: list[_Alert] = []
    hidden: list[_Alert] = []
    for cells in rows.values():
        pattern = _team_pattern(cells, minimum)
        for team, members in cells.items():
            visible = pattern.shows(0, team) if by_team else pattern.total_shown
            (shown if visible else hidden).extend(members)
    return shown, hidden


def _team_pattern(cells: Mapping[str, list[_Alert]], minimum: int) -> Pattern:
    """The row's suppression pattern, with the rule on employees on top of the one on customers."""

    def staff(teams: set[str]) -> int:
        return len({a.handling.assignee_id for t in teams for a in cells[t]})

    atoms = [
        Atom(
            (team,),
            frozenset(a.handling.customer_id for a in members if a.handling.customer_id),
            len(members),
        )
        for team, members in cells.items()
    ]
    if staff(set(cells)) < MIN_TEAM_EMPLOYEES:
        return Pattern(False, (frozenset(),))  # the region's own figure would name its few employees
    forced = {team for team in cells if staff({team}) < MIN_TEAM_EMPLOYEES}
    while True:
        pattern = suppress(atoms, axes=1, minimum=minimum, forced=[forced])
        hidden = set(pattern.hidden[0])
        if not pattern.total_shown or not hidden or staff(hidden) >= MIN_TEAM_EMPLOYEES:
            return pattern
        forced = hidden | {min(set(cells) - hidden, key=lambda t: (staff({t}), len(cells[t]), t))}


def _figures(handled: list[Handling], now: datetime) -> LoopFigures:
    # Durations are ranked as they are and converted once chosen: ranking fractions costs many times more.
    to_acknowledge: list[timedelta] = []
    to_resolve: list[timedelta] = []
    ages: list[timedelta] = []
    acknowledged_in_time = resolved_in_time = 0
    recovered = recovery_responses = 0
    changes: list[int] = []
    for h in handled:
        if h.acknowledged_at is not None:
            to_acknowledge.append(h.acknowledged_at - h.raised_at)
            acknowledged_in_time += h.acknowledged_at <= h.acknowledge_due_at
        if h.resolved_at is not None:
            to_resolve.append(h.resolved_at - h.raised_at)
            resolved_in_time += h.resolved_at <= h.resolve_due_at
            if h.customer_id is not None and h.recovery_nps is not None:
                recovery_responses += 1
                recovered += h.recovery_nps > DETRACTOR_AT_MOST
                if h.nps is not None:
                    changes.append(h.recovery_nps - h.nps)
        else:
            ages.append(now - h.raised_at)
    alerts = len(handled)
    reopened = sum(h.reopened for h in handled)
    return LoopFigures(
        alerts=alerts,
        acknowledged_in_time=acknowledged_in_time,
        acknowledged_in_time_share=ratio(acknowledged_in_time, alerts),
        resolved_in_time=resolved_in_time,
        resolved_in_time_share=ratio(resolved_in_time, alerts),
        median_minutes_to_acknowledge=_in(MINUTE, nearest_rank(to_acknowledge, 50)),
        p90_minutes_to_acknowledge=_in(MINUTE, nearest_rank(to_acknowledge, 90)),
        median_minutes_to_resolve=_in(MINUTE, nearest_rank(to_resolve, 50)),
        p90_minutes_to_resolve=_in(MINUTE, nearest_rank(to_resolve, 90)),
        escalations=sum(h.escalated for h in handled),
        reopened=reopened,
        reopen_rate=ratio(reopened, alerts),
        open=len(ages),
        open_median_age_hours=_in(HOUR, nearest_rank(ages, 50)),
        open_oldest_age_hours=_in(HOUR, max(ages)) if ages else None,
        resolved=len(to_resolve),
        recovery_responses=recovery_responses,
        recovered=recovered,
        recovery_share=ratio(recovered, recovery_responses),
        mean_nps_change=rounded(Fraction(sum(changes), len(changes))) if changes else None,
    )


def _in(unit: timedelta, elapsed: timedelta | None) -> float | None:
    """A duration in ``unit``s, rounded for display (exact until then)."""
    return None if elapsed is None else rounded(duration_in(unit, elapsed))
