"""The tactical check: every touchpoint's rolling window against its standard's targets, from rollup cells.

A window is read as the sum of its days' window counts (region x touchpoint), from running totals kept per
month: two days' totals per touchpoint and month, the same however many responses the window holds, never a
scan of responses. A broken target
raises one tactical alert per breach to the region's manager; the breach clears itself (and resolves its
alert) once the window has been back within target for a full window.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from domain.aggregates.periods import Period, daily, local_day, time_zone
from domain.aggregates.rollups import Axis, CellKey, cube_for
from domain.aggregates.stats import rounded
from domain.aggregates.window_counts import WindowCounts
from domain.alerts import rules as alert_rules
from domain.alerts.models import Alert, Contribution, TacticalBreach
from domain.employees.models import EmployeeRole
from domain.errors import Conflict, InvalidInput
from domain.feedback.models import Feedback, Touchpoint
from domain.ids import new_id
from domain.repositories import Repositories
from domain.standards.models import COMPANY, MAX_WINDOW_DAYS, ServiceStandard, Target, default_standard
from domain.standards.repository import in_force
from domain.store import DuplicateKey, Session, UnitOfWork
from domain.tactical.models import (
    BreachKey,
    BreachWatch,
    CheckOutcome,
    Judgement,
    TargetDay,
    Verdict,
    WindowDay,
    judge,
)
from domain.tactical.rules import EXPLAINED_BY, contributions, window_ending

FINEST_CUBE = cube_for(list(Axis))
Pair = tuple[str, str]  # region, touchpoint


class WindowChecks(Protocol):
    """Where intake reports stored responses, so their touchpoint's window is checked soon (debounced)."""

    def noticed(self, feedback: Feedback) -> None: ...


class NoWindowChecks:
    """Intake without tactical checks (tests and tools that store feedback outside a server)."""

    def noticed(self, feedback: Feedback) -> None:
        return None


async def check_windows(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    now: datetime,
    only: Collection[Pair] | None = None,
    make_id: Callable[[], str] = new_id,
) -> CheckOutcome:
    """Judge the windows of every touchpoint with targets (or of the ``only`` pairs) and act on the verdicts.

    Safe to run in many processes at once: a breach raises its alert, and clears it, exactly once.
    """
    zone = repos.rollups.zones[0]
    today = local_day(now, time_zone(zone))
    stored = {(s.region, s.touchpoint.value): s for s in await repos.standards.stored()}
    watches = {k: w for k, w in (await repos.breaches.active()).items() if only is None or _pair(k) in only}

    def standard_of(region: str, touchpoint: str) -> ServiceStandard:
        found = stored.get((region, touchpoint)) or stored.get((COMPANY, touchpoint))
        return found or default_standard(region, Touchpoint(touchpoint))

    windowed = [s for s in stored.values() if s.window is not None]
    lengths = {s.window.window_days for s in windowed if s.window}
    touchpoints = sorted({s.touchpoint.value for s in windowed})
    if only is not None:
        touchpoints = sorted({tp for _, tp in only} & set(touchpoints))
    where: dict[Axis, Sequence[str]] = {Axis.TOUCHPOINT: touchpoints}
    if only is not None:
        where[Axis.REGION] = sorted({region for region, _ in only})
    sums: dict[tuple[str, str, Period], WindowCounts] = {}
    if touchpoints and lengths:
        periods = [window_ending(today, days) for days in sorted(lengths)]
        sums = await repos.rollups.window_sums(zone, periods, where)
    pairs = {(region, tp) for region, tp, _ in sums if only is None or (region, tp) in only}
    pairs |= {_pair(k) for k in watches}
    pairs |= {(s.region, s.touchpoint.value) for s in windowed if s.region != COMPANY}
    if only is not None:
        pairs &= set(only)
    outcome = CheckOutcome()
    breaking: list[tuple[BreachKey, Judgement, ServiceStandard, Period]] = []
    for region, touchpoint in sorted(pairs):
        standard = standard_of(region, touchpoint)
        window = standard.window
        targets = window.targets() if window is not None else ()
        if window is not None and targets:
            period = window_ending(today, window.window_days)
            counts = sums.get((region, touchpoint, period)) or WindowCounts()
        for target in targets:
            assert window is not None
            judgement = judge(target, counts, min_responses=window.min_responses)
            key = BreachKey(region, touchpoint, target.metric)
            watch = watches.get(key)
            if judgement.verdict is Verdict.BROKEN and watch is None:
                breaking.append((key, judgement, standard, period))
            else:
                await _act(repos, uow, key, watch, judgement, period, now, outcome)
        judged = {t.metric for t in targets}
        for key, watch in watches.items():
            if _pair(key) == (region, touchpoint) and key.metric not in judged:
                await _clear(repos, uow, watch, now, "the standard no longer sets this target", outcome)
    if breaking:
        worst = await _worst(
            repos, zone, [(key, judgement.target, period) for key, judgement, _, period in breaking]
        )
        for key, judgement, standard, period in breaking:
            raised = await _raise(repos, uow, key, judgement, standard, period, now, make_id, worst[key])
            if raised is not None:
                outcome.raised.append(raised)
    return outcome


def _pair(key: BreachKey) -> Pair:
    return (key.region, key.touchpoint)


def _sum(days: Mapping[date, WindowCounts], period: Period) -> WindowCounts:
    total = WindowCounts()
    for day, counts in days.items():
        if day in period:
            total.add(counts)
    return total


async def _act(
    repos: Repositories,
    uow: UnitOfWork,
    key: BreachKey,
    watch: BreachWatch | None,
    judgement: Judgement,
    period: Period,
    now: datetime,
    outcome: CheckOutcome,
) -> None:
    """Keep or clear the open breach of ``key`` as the verdict says (the caller raises new breaches)."""
    if judgement.verdict is Verdict.BROKEN:
        if watch is not None and watch.recovering_since is not None:
            await repos.breaches.recovering(watch, None)
    elif judgement.verdict is Verdict.MET and watch is not None:
        if watch.recovering_since is None:
            await repos.breaches.recovering(watch, now)
        elif now - watch.recovering_since >= timedelta(days=period.days):
            note = f"back within target for {period.days} days"
            await _clear(repos, uow, watch, now, note, outcome)


async def _raise(
    repos: Repositories,
    uow: UnitOfWork,
    key: BreachKey,
    judgement: Judgement,
    standard: ServiceStandard,
    period: Period,
    now: datetime,
    make_id: Callable[[], str],
    worst: Sequence[Contribution],
) -> Alert | None:
    """Open the breach and store its alert in one transaction; None when another check opened it first."""
    assert judgement.figure is not None
    managers = await repos.employees.in_region(key.region, EmployeeRole.MANAGER)
    breach = TacticalBreach(
        metric=key.metric,
        figure=rounded(judgement.figure),
        target=judgement.target.bound,
        window_days=period.days,
        window_first=period.first,
        window_last=period.last,
        responses=judgement.answers,
        standard_version=standard.version,
        worst=tuple(worst),
    )
    alert = alert_rules.raise_tactical(
        alert_id=make_id(),
        region=key.region,
        standard=standard,
        breach=breach,
        assignee_id=managers[0].id if managers else None,
        now=now,
    )

    async def write(session: Session) -> None:
        await repos.breaches.open(key, alert_id=alert.id, now=now, session=session)
        await repos.alerts.insert(alert, session=session)

    try:
        await uow.run(write)
    except DuplicateKey:
        return None
    return alert


async def _worst(
    repos: Repositories, zone: str, breaches: Sequence[tuple[BreachKey, Target, Period]]
) -> dict[BreachKey, list[Contribution]]:
    """For each breach, the channel and segment cells that moved its figure most the wrong way against the
    window before. The finest cells of every breach's days are read at once: a round that raises many
    breaches reads them once, not once per breach."""
    spans = {
        key: (Period(p.first - timedelta(days=p.days), p.first - timedelta(days=1)), p)
        for key, _, p in breaches
    }
    first = min(before.first for before, _ in spans.values())
    last = max(period.last for _, period in spans.values())
    where = {
        Axis.REGION: sorted({key.region for key, _, _ in breaches}),
        Axis.TOUCHPOINT: sorted({key.touchpoint for key, _, _ in breaches}),
    }
    cells = await repos.rollups.cells(zone, FINEST_CUBE, daily(Period(first, last)), where)
    Side = dict[tuple[Axis, str], WindowCounts]
    sides: dict[BreachKey, tuple[Side, Side]] = {key: ({}, {}) for key in spans}
    by_pair: dict[Pair, list[BreachKey]] = {}
    for key in spans:
        by_pair.setdefault(_pair(key), []).append(key)
    for cell, tally in cells:
        counts = WindowCounts.of(tally)
        for key in by_pair.get((_value(cell, Axis.REGION), _value(cell, Axis.TOUCHPOINT)), ()):
            before, period = spans[key]
            current, earlier = sides[key]
            side = current if cell.slot.start in period else earlier if cell.slot.start in before else None
            if side is None:
                continue
            for axis in EXPLAINED_BY:
                side.setdefault((axis, _value(cell, axis)), WindowCounts()).add(counts)
    return {key: contributions(target, *sides[key]) for key, target, _ in breaches}


def _value(cell: CellKey, axis: Axis) -> str:
    return cell.value(axis) or ""


async def _clear(
    repos: Repositories, uow: UnitOfWork, watch: BreachWatch, now: datetime, note: str, outcome: CheckOutcome
) -> None:
    """Close the breach and resolve its alert as cleared, in one transaction, unless another check did."""
    alert = (await repos.alerts.get_many([watch.alert_id])).get(watch.alert_id)
    cleared = alert_rules.clear(alert, now=now, note=note) if alert is not None else None

    async def write(session: Session) -> bool:
        if not await repos.breaches.close(watch, now=now, session=session):
            return False
        if cleared is not None:
            await repos.alerts.save(cleared, session=session)
        return True

    try:
        done = await uow.run(write)
    except Conflict:
        return  # the alert changed since it was read: the next check clears it
    if done and cleared is not None:
        outcome.cleared.append(cleared)


MAX_HISTORY_DAYS = 92


async def windows_by_day(
    repos: Repositories, *, region: str, touchpoint: Touchpoint, period: Period, now: datetime
) -> list[WindowDay]:
    """Each day's window in ``period`` judged by the standard in force at that day's end (now, for today).

    Days are local days of the reporting time zone; a change of the standard applies from its time on.
    """
    if period.last < period.first:
        raise InvalidInput("the period ends before it starts", field="to")
    if period.days > MAX_HISTORY_DAYS:
        raise InvalidInput(f"the period may cover at most {MAX_HISTORY_DAYS} days", field="to")
    zone_name = repos.rollups.zones[0]
    zone = time_zone(zone_name)
    today = local_day(now, zone)
    if period.last > today:
        raise InvalidInput("the period must end today or before", field="to")
    versions = await repos.standards.history(region, touchpoint)
    read = Period(period.first - timedelta(days=MAX_WINDOW_DAYS - 1), period.last)
    where = {Axis.REGION: [region], Axis.TOUCHPOINT: [touchpoint.value]}
    found = await repos.rollups.window_days(zone_name, read, where)
    days = {day: counts for (_, _, day), counts in found.items()}
    judged = []
    for n in range(period.days):
        day = period.first + timedelta(days=n)
        end = min(Period(day, day).bounds(zone)[1], now)
        standard = in_force(versions, region, touchpoint, end)
        window = standard.window
        span = window_ending(day, window.window_days if window else 1)
        counts = _sum(days, span)
        targets = []
        for target in window.targets() if window else ():
            assert window is not None
            verdict = judge(target, counts, min_responses=window.min_responses)
            targets.append(
                TargetDay(
                    metric=target.metric,
                    target=target.bound,
                    figure=rounded(verdict.figure) if verdict.figure is not None else None,
                    answers=verdict.answers,
                    verdict=verdict.verdict,
                )
            )
        judged.append(WindowDay(day, span.first, counts.responses, standard.version, tuple(targets)))
    return judged
