"""Which rollup cells a response counts in, and which cells answer a request.

A cell is one local day or month, in one reporting time zone, of one cube: a set of dimensions the cell is
keyed by. Every cube includes the region, so a manager's region scope applies to cells exactly. A request is
answered from the smallest cube holding every dimension it filters or groups by, so a board query by
region reads a handful of cells per month however many responses there are.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.aggregates.periods import Grain, Slot, local_day, month_start, time_zone
from domain.aggregates.tally import Tally
from domain.feedback.models import Feedback


class Dimension(StrEnum):
    """What feedback aggregates are filtered and grouped by (besides time)."""

    REGION = "region"
    CHANNEL = "channel"
    TOUCHPOINT = "touchpoint"
    SEGMENT = "segment"


@dataclass(frozen=True, slots=True)
class Cube:
    """The dimensions a set of cells is keyed by."""

    dimensions: frozenset[Dimension]

    @property
    def name(self) -> str:
        return "+".join(d.value for d in Dimension if d in self.dimensions)


CUBES = tuple(
    Cube(frozenset({Dimension.REGION, *more}))
    for more in (
        (),
        (Dimension.CHANNEL,),
        (Dimension.TOUCHPOINT,),
        (Dimension.SEGMENT,),
        (Dimension.CHANNEL, Dimension.TOUCHPOINT, Dimension.SEGMENT),
    )
)


def cube_for(needed: Iterable[Dimension]) -> Cube:
    """The smallest cube keyed by every dimension in ``needed``."""
    wanted = set(needed)
    return min((c for c in CUBES if wanted <= c.dimensions), key=lambda c: len(c.dimensions))


# Each cell is split in this many shards, and a response counts in one of them (by its id): concurrent
# transactions then rarely write the same document, where they would conflict and retry. Reads add the
# shards up like any other cells of a bucket.
SHARDS = 8


@dataclass(frozen=True, slots=True)
class CellKey:
    """One cell: a time span in a zone, a cube, the cube's dimension values, and the shard."""

    zone: str
    slot: Slot
    cube: Cube
    values: tuple[tuple[Dimension, str], ...]  # in Dimension order, one per dimension of the cube
    shard: int = 0

    def value(self, dimension: Dimension) -> str | None:
        return dict(self.values).get(dimension)


def values_of(feedback: Feedback) -> dict[Dimension, str]:
    """A response's value of each dimension (region and segment as they were when it was given)."""
    return {
        Dimension.REGION: feedback.region or "",
        Dimension.CHANNEL: feedback.channel.value,
        Dimension.TOUCHPOINT: feedback.touchpoint.value,
        Dimension.SEGMENT: feedback.segment or "",
    }


def cells_of(feedback: Feedback, zones: Sequence[str]) -> list[CellKey]:
    """Every cell a response counts in: each zone's local day and month of the experience, in every cube."""
    values = values_of(feedback)
    shard = zlib.crc32(feedback.id.encode()) % SHARDS  # stable across processes, unlike hash()
    keys: list[CellKey] = []
    for zone in zones:
        day = local_day(feedback.occurred_at, time_zone(zone))
        for slot in (Slot(Grain.DAY, day), Slot(Grain.MONTH, month_start(day))):
            for cube in CUBES:
                kept = tuple((d, values[d]) for d in Dimension if d in cube.dimensions)
                keys.append(CellKey(zone, slot, cube, kept, shard))
    return keys


def count_in(cells: dict[CellKey, Tally], feedback: Feedback, zones: Sequence[str]) -> None:
    """Count one raw response into ``cells``: what rebuilding and verifying rollups compare with."""
    one = Tally.of(feedback)
    for key in cells_of(feedback, zones):
        cells.setdefault(key, Tally()).add(one)


class RollupReader(Protocol):
    """Reads the cells of one cube and zone for some time spans, narrowed by dimension values."""

    @property
    def zones(self) -> tuple[str, ...]:
        """The reporting time zones cells are kept in."""
        ...

    async def cells(
        self,
        zone: str,
        cube: Cube,
        slots: Sequence[Slot],
        where: Mapping[Dimension, Sequence[str]],
    ) -> list[tuple[CellKey, Tally]]: ...
