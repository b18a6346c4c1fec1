"""Rebuilding rollups from raw feedback, and verifying them against a recomputation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.aggregates.rollups import CellKey, count_in
from domain.aggregates.tally import Tally
from domain.repositories import Repositories


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """How many responses were read and how many cells were written."""

    responses: int
    cells: int


@dataclass(frozen=True, slots=True)
class Difference:
    """A cell whose stored counts are not those of the raw responses."""

    cell: CellKey
    stored: Tally | None
    expected: Tally | None

    def describe(self) -> str:
        key = self.cell
        values = ", ".join(f"{d.value}={v}" for d, v in key.values)
        where = (
            f"{key.zone} {key.cube.name} {key.slot.grain.value} {key.slot.start} ({values}) shard {key.shard}"
        )
        if self.stored is None:
            return f"missing cell {where}: {self.expected.responses if self.expected else 0} responses"
        if self.expected is None:
            return f"unexpected cell {where}: {self.stored.responses} responses"
        return f"cell {where}: stored {self.stored.responses} responses, raw {self.expected.responses}"


async def recompute_rollups(
    repos: Repositories, *, progress: Callable[[int], None] | None = None
) -> tuple[int, dict[CellKey, Tally]]:
    """Every cell's tally computed from the raw responses, and how many responses were read."""
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
    """Replace every rollup cell with the recomputation from raw feedback.

    Responses stored while it runs may be counted twice or missed: run it while feedback intake is
    paused, then ``verify``.
    """
    read, cells = await recompute_rollups(repos, progress=reading)
    await repos.rollups.replace_all(cells, progress=writing)
    return Rebuilt(read, len(cells))


async def verify_rollups(
    repos: Repositories, *, progress: Callable[[int], None] | None = None
) -> list[Difference]:
    """Every cell whose stored counts differ from the raw responses' (none when rollups are exact)."""
    _, expected = await recompute_rollups(repos, progress=progress)
    differences = []
    seen: set[CellKey] = set()
    async for key, stored in repos.rollups.everything():
        seen.add(key)
        wanted = expected.get(key)
        if wanted is None or _comparable(stored) != _comparable(wanted):
            differences.append(Difference(key, stored, wanted))
    differences.extend(Difference(key, None, tally) for key, tally in expected.items() if key not in seen)
    return differences


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
