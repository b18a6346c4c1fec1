"""Rebuilding rollups from raw feedback (lifecycle cells from the customers, the alerts' handling packs from
the alerts), and verifying them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial

from domain.aggregates.churn import LifecycleCounts, LifecycleKey, count_lifecycle
from domain.aggregates.periods import Grain, add_months, local_day, month_start, time_zone
from domain.aggregates.repository import WINDOW_CUBE, ShardedCells
from domain.aggregates.rollups import Axis, CellKey, count_in
from domain.aggregates.tally import Tally
from domain.aggregates.window_counts import WindowCounts
from domain.alerts.handling import handling_of, is_packed
from domain.alerts.models import Handling
from domain.repositories import Repositories
from domain.store import Session, UnitOfWork


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """How many responses were read and cells written; how many customers were read and lifecycle cells."""

    responses: int
    cells: int
    customers: int = 0
    lifecycle_cells: int = 0
    alerts: int = 0  # operational alerts whose handling was packed


@dataclass(frozen=True, slots=True)
class Difference:
    """A whole cell whose stored counts (its shards added up) are not those of the raw responses."""

    cell: CellKey
    stored: Tally | None
    expected: Tally | None

    def describe(self) -> str:
        key = self.cell
        values = ", ".join(f"{d.value}={v}" for d, v in key.values)
        where = f"{key.zone} {key.cube.name} {key.slot.grain.value} {key.slot.start} ({values})"
        if self.stored is None:
            return f"missing cell {where}: {self.expected.responses if self.expected else 0} responses"
        if self.expected is None:
            return f"unexpected cell {where}: {self.stored.responses} responses"
        return f"cell {where}: stored {self.stored.responses} responses, raw {self.expected.responses}"


@dataclass(frozen=True, slots=True)
class WindowDayDifference:
    """A day's window counts (from the running totals and the month documents holding some not folded into
    them yet, added up) that are not those of the raw responses (a missing day counts none)."""

    zone: str
    region: str
    touchpoint: str
    day: date
    stored: WindowCounts
    expected: WindowCounts

    def describe(self) -> str:
        where = f"{self.zone} window counts {self.day} (region={self.region}, touchpoint={self.touchpoint})"
        stored, expected = self.stored.as_dict(), self.expected.as_dict()
        differ = ", ".join(
            f"{name} stored {stored[name]}, raw {expected[name]}"
            for name in stored
            if stored[name] != expected[name]
        )
        return f"{where}: {differ}"


@dataclass(frozen=True, slots=True)
class HandlingDifference:
    """An operational alert whose packed handling is not what the alert itself says (None: missing)."""

    alert_id: str
    stored: Handling | None
    expected: Handling | None

    def describe(self) -> str:
        if self.stored is None:
            return f"alert {self.alert_id}: its handling is not packed"
        if self.expected is None:
            return f"alert {self.alert_id}: packed, but no such operational alert"
        return f"alert {self.alert_id}: packed handling differs from the alert's"


@dataclass(frozen=True, slots=True)
class LifecycleDifference:
    """A lifecycle cell whose stored counts are not those of the customers (a missing cell counts none)."""

    cell: LifecycleKey
    stored: LifecycleCounts
    expected: LifecycleCounts

    def describe(self) -> str:
        key = self.cell
        where = (
            f"{key.zone} lifecycle {key.slot.grain.value} {key.slot.start} "
            f"(region={key.region}, segment={key.segment})"
        )
        return (
            f"{where}: stored {self.stored.joined} joined and {self.stored.churned} churned, "
            f"customers {self.expected.joined} joined and {self.expected.churned} churned"
        )


async def recompute_lifecycles(repos: Repositories) -> tuple[int, dict[LifecycleKey, LifecycleCounts]]:
    """Every lifecycle cell counted from the customers (non-empty cells only), and how many were read."""
    customers = await repos.customers.lifecycles(regions=(), segments=())
    cells: dict[LifecycleKey, LifecycleCounts] = {}
    for customer in customers:
        count_lifecycle(cells, customer, repos.lifecycles.zones)
    return len(customers), cells


async def recompute_rollups(
    repos: Repositories, *, progress: Callable[[int], None] | None = None
) -> tuple[int, dict[CellKey, Tally]]:
    """Every whole cell's tally computed from the raw responses, and how many responses were read."""
    read = 0
    cells: dict[CellKey, Tally] = {}
    async for feedback in repos.feedback.every():
        count_in(cells, feedback, repos.rollups.zones)
        read += 1
        if progress is not None and read % 10_000 == 0:
            progress(read)
    if progress is not None:
        progress(read)
    return read, cells


async def rebuild_rollups(
    repos: Repositories,
    *,
    reading: Callable[[int], None] | None = None,
    writing: Callable[[int], None] | None = None,
) -> Rebuilt:
    """Replace every rollup cell with the recomputation from raw feedback, each cell written whole.

    Responses stored while it runs may be counted twice or missed: run it while feedback intake is
    paused, then ``verify``.
    """
    read, cells = await recompute_rollups(repos, progress=reading)
    await repos.rollups.replace_all(cells, progress=writing)
    customers, lifecycles = await recompute_lifecycles(repos)
    await repos.lifecycles.replace_all(lifecycles)
    alerts = await repos.alert_handling.replace_all(repos.alerts.handling_documents())
    return Rebuilt(read, len(cells), customers, len(lifecycles), alerts)


COMPACTED_PER_ROUND = 200


async def compact_rollups(
    repos: Repositories, uow: UnitOfWork, *, now: datetime, limit: int = COMPACTED_PER_ROUND
) -> int:
    """Fold the rollup cells responses spread over shards back into shard 0, for up to ``limit`` zones,
    time spans and regions; the documents folded. (A late response to a month that is over at ``now`` also
    has its month's finest cells written again.)

    Shards let concurrent responses write different documents; once written, every shard is one more
    document for each read of its time span to fetch. The sweep folds them, so a window or a dashboard
    reads about one document per time span and region however many responses came in. Each fold is one
    transaction: a response counted into a shard meanwhile conflicts with it, and one of them is retried.
    Safe in many processes at once.
    """
    folded = 0
    for sharded in await repos.rollups.sharded(limit=limit):

        async def work(session: Session, sharded: ShardedCells = sharded) -> int:
            return await repos.rollups.compact(sharded, session=session, now=now)

        folded += await uow.run(work)
    return folded


async def fold_alert_handling(
    repos: Repositories, uow: UnitOfWork, *, now: datetime, limit: int = COMPACTED_PER_ROUND
) -> int:
    """Fold the shards of the alert handling packs of days before ``now``'s (UTC) into their whole pack,
    for up to ``limit`` days and regions; the shards folded.

    Shards let concurrent transactions raising alerts write different documents (``domain.alerts.handling``);
    once their day is over, every shard is one more document for each read of loop performance to fetch.
    Each fold is one transaction; safe in many processes at once."""
    folded = 0
    for day, region in await repos.alert_handling.sharded_before(now.astimezone(UTC).date(), limit=limit):

        async def work(session: Session, day: str = day, region: str = region) -> int:
            return await repos.alert_handling.fold(day, region, session=session)

        folded += await uow.run(work)
    return folded


async def seal_last_month(
    repos: Repositories, uow: UnitOfWork, *, now: datetime, done: set[tuple[str, date]] | None = None
) -> int:
    """Write the finest cube's month cells of the month before ``now``'s, in each zone, for each region
    whose cells are missing or count other responses than the month's documents; how many were written.

    Reads take a month that is over from these (a document per region) rather than from its days (about
    thirty per region), and stay exact without them. Once written, a month's cells change only with a late
    response, which the fold of its month document writes again (``compact_rollups``): a sweep passes the
    months it has seen whole in ``done`` and they are not looked at again. Safe in many processes at once:
    each write is a snapshot of the days, whichever process writes last."""
    sealed = 0
    for zone in repos.rollups.zones:
        month = add_months(month_start(local_day(now, time_zone(zone))), -1)
        if done is not None and (zone, month) in done:
            continue
        for region in await repos.rollups.unsealed(zone, month):
            await uow.run(partial(_seal, repos, zone, month, region))
            sealed += 1
        if done is not None:
            done.add((zone, month))
    return sealed


async def _seal(repos: Repositories, zone: str, month: date, region: str, session: Session) -> None:
    await repos.rollups.seal(zone, month, region, session=session)


async def verify_rollups(
    repos: Repositories, *, progress: Callable[[int], None] | None = None
) -> list[Difference | WindowDayDifference | LifecycleDifference | HandlingDifference]:
    """Every whole cell whose stored counts differ from the raw responses' (none when rollups are exact),
    then every day's window counts that differ, then every lifecycle cell whose counts differ from the
    customers', then every alert whose packed handling differs from the alert's.

    A cell's shards are added up first, as reads do: how its responses are spread over them changes nothing.
    """
    _, expected = await recompute_rollups(repos, progress=progress)
    stored: dict[CellKey, Tally] = {}
    async for key, tally in repos.rollups.everything():
        stored.setdefault(key.whole, Tally()).add(tally)
    differences = [
        Difference(key, tally, expected.get(key))
        for key, tally in stored.items()
        if key not in expected or _comparable(tally) != _comparable(expected[key])
    ]
    differences.extend(Difference(key, None, tally) for key, tally in expected.items() if key not in stored)
    return [
        *differences,
        *await _window_differences(repos, expected),
        *await _lifecycle_differences(repos),
        *await _handling_differences(repos),
    ]


async def _window_differences(
    repos: Repositories, expected_cells: dict[CellKey, Tally]
) -> list[WindowDayDifference]:
    """The window counts stored (running totals and pending) must be those of the window cube's day cells."""
    expected = {
        (key.zone, key.value(Axis.REGION) or "", key.value(Axis.TOUCHPOINT) or "", key.slot.start): (
            WindowCounts.of(tally)
        )
        for key, tally in expected_cells.items()
        if key.cube is WINDOW_CUBE and key.slot.grain is Grain.DAY
    }
    stored: dict[tuple[str, str, str, date], WindowCounts] = {}
    async for key, counts in repos.rollups.every_window_day():
        stored.setdefault(key, WindowCounts()).add(counts)
    return [
        WindowDayDifference(*key, stored.get(key, WindowCounts()), expected.get(key, WindowCounts()))
        for key in sorted({*stored, *expected})
        if stored.get(key, WindowCounts()) != expected.get(key, WindowCounts())
    ]


async def _handling_differences(repos: Repositories) -> list[HandlingDifference]:
    handlings = [handling_of(d) async for d in repos.alerts.handling_documents() if is_packed(d)]
    expected = {h.alert_id: h for h in handlings}
    stored = {h.alert_id: h async for h in repos.alert_handling.everything()}
    return [
        HandlingDifference(alert_id, stored.get(alert_id), expected.get(alert_id))
        for alert_id in sorted({*stored, *expected})
        if stored.get(alert_id) != expected.get(alert_id)
    ]


async def _lifecycle_differences(repos: Repositories) -> list[LifecycleDifference]:
    _, expected = await recompute_lifecycles(repos)
    stored = {key: counts async for key, counts in repos.lifecycles.everything()}
    return [
        LifecycleDifference(key, stored.get(key, LifecycleCounts()), expected.get(key, LifecycleCounts()))
        for key in sorted({*stored, *expected}, key=str)
        if stored.get(key, LifecycleCounts()) != expected.get(key, LifecycleCounts())
    ]


def _comparable(tally: Tally) -> tuple[object, ...]:
    """What must be equal: every count, and the distinct customers up to the number kept."""
    return (
        tally.responses,
        tally.nps,
        tally.csat,
        tally.effort,
        tally.indexed,
        tally.index_sum,
        # Names are unique, so sorting never compares the customer sets.
        sorted(
            (name, d.responses, d.gap_sum, d.ratio_sum, d.kept_customers())
            for name, d in tally.dimensions.items()
        ),
        tally.kept_customers(),
    )
