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
    return Rebuilt(read, len(cells))


async def verify_rollups(
    repos: Repositories, *, progress: Callable[[int], None] | None = None
) -> list[Difference]:
    """Every whole cell whose stored counts differ from the raw responses' (none when rollups are exact).

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
