"""Complaints for a Pareto view: counts by category and channel, time to resolve, reopen rate.

Complaint cases are few next to feedback, so these figures are computed from the cases of the period.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Protocol

from domain.aggregates.disclosure import Atom, Disclosure, publishable_period, suppress
from domain.aggregates.periods import Period, local_day, month_start, time_zone
from domain.aggregates.stats import duration_in, nearest_rank, ratio, rounded
from domain.crm.models import Case
from domain.errors import InvalidInput

HOUR = timedelta(hours=1)


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
    disclosure: Disclosure,
    now: datetime,
    reporting_zone: str,
    listed: Callable[[str], bool] = lambda _: True,
) -> list[ComplaintRow]:
    """Rows by ``by``, most complaints first (shown rows, then suppressed ones), with cumulative shares.

    Categories that are not ``listed`` (free text from before categories were a managed list) form no row.
    """
    if disclosure.protected:
        minimum = disclosure.min_customers
        groups, hidden = await _protected_groups(reader, where, by, minimum, now, reporting_zone)
    else:
        period = where.period.checked(None)
        start, end = period.bounds(time_zone(where.time_zone))
        cases = await reader.complaints(start, end, regions=where.regions, channels=where.channels)
        groups = {}
        for case in cases:
            groups.setdefault(_key(case, by), []).append(case)
        small = {k for k, v in groups.items() if len({c.customer_id for c in v}) < disclosure.min_customers}
        hidden = {k: groups.pop(k) for k in small}
    if ComplaintAxis.CATEGORY in by:
        groups = {k: v for k, v in groups.items() if k[0] is None or listed(k[0])}
        hidden = {k: v for k, v in hidden.items() if k[0] is None or listed(k[0])}
    # Suppressed rows stay out of the shares, or the shares would give their counts away.
    base = sum(len(v) for v in groups.values())
    rows: list[ComplaintRow] = []
    running = 0
    for key, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), str(kv[0]))):
        running += len(group)
        rows.append(ComplaintRow(*key, _figures(group, running, base)))
    rows.extend(ComplaintRow(*key, None) for key in sorted(set(hidden) - set(groups), key=str))
    return rows


Key = tuple[str | None, str | None]  # category and channel, each when counted by it


def _key(case: Case, by: Sequence[ComplaintAxis]) -> Key:
    return (
        case.category if ComplaintAxis.CATEGORY in by else None,
        case.channel.value if ComplaintAxis.CHANNEL in by else None,
    )


async def _protected_groups(
    reader: ComplaintReader,
    where: ComplaintFilter,
    by: Sequence[ComplaintAxis],
    minimum: int,
    now: datetime,
    zone_name: str,
) -> tuple[dict[Key, list[Case]], dict[Key, list[Case]]]:
    """The shown and the suppressed cases by row key, on the publication lattice.

    Rows of the lattice are a month and region; their cells are split by category and by channel.
    """
    if where.time_zone != zone_name:
        raise InvalidInput(f"company-wide aggregates are kept in {zone_name} only", field="timeZone")
    zone = time_zone(zone_name)
    period = publishable_period(where.period, None, today=local_day(now, zone))
    axes = {*by, *((ComplaintAxis.CHANNEL,) if where.channels else ())}
    if len(axes) > 1:
        raise InvalidInput(
            "company-wide complaints are counted by category or by channel, not both", field="by"
        )
    start, end = period.bounds(zone)
    # Every channel, so that each row's pattern is the same whatever the request filters.
    cases = await reader.complaints(start, end, regions=where.regions, channels=())
    rows: dict[tuple[date, str], dict[tuple[str, str], list[Case]]] = {}
    for case in cases:
        row = (month_start(local_day(case.opened_at, zone)), case.region)
        rows.setdefault(row, {}).setdefault((case.category, case.channel.value), []).append(case)
    shown: dict[Key, list[Case]] = {}
    hidden: dict[Key, list[Case]] = {}
    for atoms in rows.values():
        keys = list(atoms)
        pattern = suppress(
            [Atom(k, frozenset(c.customer_id for c in atoms[k]), len(atoms[k])) for k in keys],
            axes=2,
            minimum=minimum,
        )
        for (category, channel), group in atoms.items():
            if where.channels and channel not in where.channels:
                continue
            key = _key(group[0], by)
            axis = 0 if ComplaintAxis.CATEGORY in by else 1
            visible = pattern.shows(axis, category if axis == 0 else channel)
            (shown if visible else hidden).setdefault(key, []).extend(group)
    return shown, hidden


def _figures(group: list[Case], running: int, base: int) -> ComplaintFigures:
    hours = [hours_to_resolve(case) for case in group]
    resolved = [h for h in hours if h is not None]
    reopened = sum(was_reopened(case) for case in group)
    return ComplaintFigures(
        complaints=len(group),
        share=rounded(Fraction(len(group), base)),
        cumulative_share=rounded(Fraction(running, base)),
        resolved=len(resolved),
        median_hours_to_resolve=_rounded(nearest_rank(resolved, 50)),
        p90_hours_to_resolve=_rounded(nearest_rank(resolved, 90)),
        reopened=reopened,
        reopen_rate=ratio(reopened, len(group)),
    )


def hours_to_resolve(case: Case) -> Fraction | None:
    """Exact hours from opening to the latest resolution or closing (a reopened case counts until then)."""
    done = resolved_at(case)
    if done is None:
        return None
    return duration_in(HOUR, done - case.opened_at)


def _rounded(value: Fraction | None) -> float | None:
    return None if value is None else rounded(value)
