"""The worklist's order, and how a page finds its customers without reading everyone's standing.

Customers are listed by priority (highest first), then by a fixed pseudo-random tie-break of their id (so
equal priorities do not always favour the same customers), then by id. That order is one string per
standing, its **rank**, indexed: a page is the next ``first`` ranks after the cursor.

A database that cannot stop an index walk at a limit (the embedded one reads every key of the range before
sorting) would read every matching standing for each page. So pages are read from a **band** of ranks
expected to hold just enough of them: ``Bands`` counts standings per action and priority (kept with the
standings, per region and segment, and per owner, region and segment), and since tie-breaks are spread
evenly, the share of a priority's tie-break range a band covers holds about that share of its standings.
Each of the caller's regions (or the owner's customers in it) is read over the band from its own (region,
rank) or (owner, region, rank) index, and the reads are merged: a page reads about the band's standings,
whatever the number of customers. A band that turns out short is followed by a wider one (``WIDENINGS`` at
most), then by a read of the rest.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.standing.models import NextBestAction

PRIORITIES = range(0, 101)
_TIE_BREAKS = 1 << 32
# A band aims at this many times the standings a page needs, plus a few: short bands are then rare.
SAFETY_FACTOR = 1.5
SAFETY_EXTRA = 8
# A short band is followed by bands aiming at this many times what is still missing, this many times.
WIDENING = 4
WIDENINGS = 2


def tie_break(customer_id: str) -> int:
    """A customer's fixed place among those of equal priority (spread evenly over 32 bits)."""
    return zlib.crc32(customer_id.encode())


def rank_of(priority: int, customer_id: str) -> str:
    """The string whose ascending order is the worklist's: priority descending, tie-break, id."""
    return f"{_prefix(priority, tie_break(customer_id))}{customer_id}"


def _prefix(priority: int, tie: int) -> str:
    return f"{100 - priority:03d}{tie:08x}"


class Owner(StrEnum):
    """Whose customers a worklist shows."""

    ME = "ME"  # the customers the caller owns
    ANY = "ANY"  # every customer of the caller's regions


@dataclass(frozen=True, slots=True)
class WorklistFilter:
    """Which standings a worklist shows; empty parts do not filter."""

    actions: tuple[NextBestAction, ...] = ()
    segments: tuple[str, ...] = ()
    owner_id: str | None = None  # only the customers this employee owns


def region_band(region: str, segment: str) -> str:
    """The key of the counts of one region's customers of one segment."""
    return f"region|{region}|{segment}"


def owner_band(owner_id: str, region: str, segment: str) -> str:
    """The key of the counts of one employee's customers of one region and segment."""
    return f"owner|{owner_id}|{region}|{segment}"


def bands_of(region: str, segment: str, owner_id: str | None) -> list[str]:
    """Every band a standing is counted in."""
    keys = [region_band(region, segment)]
    if owner_id is not None:
        keys.append(owner_band(owner_id, region, segment))
    return keys


def bands_for(where: WorklistFilter, regions: Sequence[str], segments: Sequence[str]) -> list[str]:
    """The bands whose counts estimate a request: its owner's, else its regions', for its segments."""
    chosen = where.segments or tuple(segments)
    if where.owner_id is not None:
        return [owner_band(where.owner_id, r, s) for r in regions for s in chosen]
    return [region_band(r, s) for r in regions for s in chosen]


def expected(
    counts: Iterable[Mapping[str, Mapping[int, int]]], actions: Sequence[NextBestAction]
) -> list[int]:
    """Standings per priority (0-100) in the given bands, of the given actions (all when empty)."""
    wanted = {a.value for a in actions} if actions else {a.value for a in NextBestAction}
    per_priority = [0] * len(PRIORITIES)
    for band in counts:
        for action, by_priority in band.items():
            if action in wanted:
                for priority, n in by_priority.items():
                    per_priority[priority] += n
    return per_priority


def band_end(per_priority: Sequence[int], after: str | None, page: int) -> str | None:
    """The rank (excluded) up to which a page's first read goes: enough for ``page`` standings after
    ``after`` as estimated from ``per_priority``, with a margin; None reads to the end."""
    need = math.ceil(SAFETY_FACTOR * page) + SAFETY_EXTRA
    top, passed = 100, 0.0
    if after is not None:
        top = 100 - int(after[:3])
        passed = (int(after[3:11], 16) + 1) / _TIE_BREAKS
    found = 0.0
    for priority in range(top, -1, -1):
        start = passed if priority == top else 0.0
        available = per_priority[priority] * (1 - start)
        if found + available >= need and available > 0:
            share = start + (need - found) / per_priority[priority]
            tie = math.ceil(share * _TIE_BREAKS)
            if tie >= _TIE_BREAKS:
                return _prefix(priority - 1, 0) if priority > 0 else None
            return _prefix(priority, tie)
        found += available
    return None


def valid_rank(after: str) -> bool:
    """Whether a cursor's rank has the shape ``rank_of`` gives."""
    head = after[:11]
    return len(after) > 11 and head[:3].isdigit() and int(head[:3]) <= 100 and _is_hex(head[3:])


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)
