"""Which rollup cells a response counts in, and which cells answer a request.

A cell is one local day or month, in one reporting time zone, of one cube: a set of axes the cell is keyed
by. Every cube includes the region, so a manager's region scope applies to cells exactly. A request is
answered from the smallest cube holding every axis it filters or groups by, so a board query by
region reads a handful of cells per month however many responses there are.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from domain import shards
from domain.aggregates.periods import Grain, Slot, local_day, month_start, time_zone
from domain.aggregates.tally import Tally
from domain.feedback.models import Feedback


class Axis(StrEnum):
    """An axis feedback aggregates are filtered and grouped by (besides time).

    Not to be confused with a service dimension (an expectation-perception item of a response).
    """

    REGION = "region"
    CHANNEL = "channel"
    TOUCHPOINT = "touchpoint"
    SEGMENT = "segment"


@dataclass(frozen=True, slots=True)
class Cube:
    """The axes a set of cells is keyed by."""

    axes: frozenset[Axis]

    @property
    def ordered(self) -> tuple[Axis, ...]:
        """The cube's axes in ``Axis`` order (worked out once per cube: cells are keyed by the thousand)."""
        return _ordered(self.axes)

    @property
    def name(self) -> str:
        return _name(self.axes)


@functools.cache
def _ordered(axes: frozenset[Axis]) -> tuple[Axis, ...]:
    return tuple(d for d in Axis if d in axes)


@functools.cache
def _name(axes: frozenset[Axis]) -> str:
    return "+".join(d.value for d in _ordered(axes))


CUBES = tuple(
    Cube(frozenset({Axis.REGION, *more}))
    for more in (
        (),
        (Axis.CHANNEL,),
        (Axis.TOUCHPOINT,),
        (Axis.SEGMENT,),
        (Axis.CHANNEL, Axis.TOUCHPOINT, Axis.SEGMENT),
    )
)


def cube_for(needed: Iterable[Axis]) -> Cube:
    """The smallest cube keyed by every axis in ``needed``."""
    wanted = set(needed)
    return min((c for c in CUBES if wanted <= c.axes), key=lambda c: len(c.axes))


# Each cell is split in this many shards, and a response taken in counts in one of them (by its id):
# concurrent transactions then rarely write the same document, where they would conflict and retry. Reads
# add the shards up like any other cells of a bucket, so a cell written whole (rebuilt or bulk-loaded, with
# no concurrent writers) is kept as its shard 0 and answers exactly the same. In 8 shards, eight concurrent
# writers over five regions met on a rollup document about once every ten responses, and the response ran
# again whole; in 32, once every 40 to 60 (the closed-loop bench counts the conflicts). The sweep folds
# every span's shards each round, so a read meets the extra shards only for what was written since.
SHARDS = 32


@dataclass(frozen=True, slots=True)
class CellKey:
    """One cell: a time span in a zone, a cube, the cube's axis values, and the shard."""

    zone: str
    slot: Slot
    cube: Cube
    values: tuple[tuple[Axis, str], ...]  # in Axis order, one per axis of the cube
    shard: int = 0

    def value(self, axis: Axis) -> str | None:
        return dict(self.values).get(axis)

    @property
    def whole(self) -> CellKey:
        """The cell this shard is part of, as written whole: what a cell's figures depend on."""
        return self if self.shard == 0 else replace(self, shard=0)


def values_of(feedback: Feedback) -> dict[Axis, str]:
    """A response's value on each axis (region and segment as they were when it was given)."""
    return {
        Axis.REGION: feedback.region or "",
        Axis.CHANNEL: feedback.channel.value,
        Axis.TOUCHPOINT: feedback.touchpoint.value,
        Axis.SEGMENT: feedback.segment or "",
    }


def shard_of(feedback: Feedback) -> int:
    """The shard a response taken in counts in, by its id."""
    return shards.shard_of(feedback.id, SHARDS)


def cells_of(feedback: Feedback, zones: Sequence[str], *, sharded: bool = True) -> list[CellKey]:
    """Every cell a response counts in: each zone's local day and month of the experience, in every cube.

    ``sharded``: in the response's own shard, as intake writes it; else in shard 0 (whole cells).
    """
    values = values_of(feedback)
    shard = shard_of(feedback) if sharded else 0
    keys: list[CellKey] = []
    for zone in zones:
        day = local_day(feedback.occurred_at, time_zone(zone))
        for slot in (Slot(Grain.DAY, day), Slot(Grain.MONTH, month_start(day))):
            for cube in CUBES:
                kept = tuple((d, values[d]) for d in cube.ordered)
                keys.append(CellKey(zone, slot, cube, kept, shard))
    return keys


def count_in(cells: dict[CellKey, Tally], feedback: Feedback, zones: Sequence[str]) -> None:
    """Count one raw response into whole ``cells``: what rebuilds and bulk loads write, and verifying compares
    stored cells (their shards added up) with."""
    one = Tally.of(feedback)
    for key in cells_of(feedback, zones, sharded=False):
        cells.setdefault(key, Tally()).add(one)


class RollupReader(Protocol):
    """Reads the cells of one cube and zone for some time spans, narrowed by axis values."""

    @property
    def zones(self) -> tuple[str, ...]:
        """The reporting time zones cells are kept in."""
        ...

    async def cells(
        self,
        zone: str,
        cube: Cube,
        slots: Sequence[Slot],
        where: Mapping[Axis, Sequence[str]],
    ) -> list[tuple[CellKey, Tally]]: ...
