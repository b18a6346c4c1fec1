"""How much of an aggregate a caller is shown: exact figures, or a lattice that cannot be taken apart.

Managers may read every record of their regions, so their aggregates are exact; a bucket of fewer than the
minimum of distinct customers is merely left blank (a display rule, not a protection). The board and BI tools
may read no record, so what they are shown must not give away a small group however they combine answers:

1. Time comes in whole months of one reporting time zone (the first configured): a period runs from the
   first of a month to the last day of a month that has ended; buckets are months, quarters or the whole
   period. Days, weeks and the current month are not published to them.
2. Besides the region, an answer uses at most one other axis (one of channel, touchpoint or segment for
   feedback; category or channel for complaints; ...), whether to filter or to group by.
3. The cells are fixed: (month, region) and (month, region, value of that axis). A cell with fewer than the
   minimum of distinct customers is suppressed. Within each (month, region), the suppressed cells of an axis
   must together hold no customer or at least the minimum, so that the region's figure minus the shown cells
   reveals only a group that may be shown anyway; where they do not, the smallest shown cells are suppressed
   with them (complementary suppression). The pattern depends on the cells alone, never on the request.
4. Every figure is the sum of the shown cells it covers; a bucket with none is suppressed.

So no suppressed cell is a linear combination of answers the caller can get: every answer is a sum of shown
cells, and the only sums that include suppressed data are a region's own cells, whose suppressed remainder
per axis holds at least the minimum of customers and spans two cells or more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from domain.aggregates.periods import Interval, Period, add_months, month_start, months_of
from domain.errors import InvalidInput

# Customers of a cell: the distinct ones while fewer than the tally keeps, None for at least that many.
Customers = frozenset[str] | None


class Guarantee(StrEnum):
    """What an aggregate's caller is promised (and what it may ask for)."""

    EXACT = "EXACT"  # every figure as it is; small buckets left blank for display
    PROTECTED = "PROTECTED"  # the lattice above: small groups cannot be worked out from any answers


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The guarantee a caller's aggregates are computed under, and the minimum of customers per bucket."""

    guarantee: Guarantee
    min_customers: int

    @property
    def protected(self) -> bool:
        return self.guarantee is Guarantee.PROTECTED


def enough(customers: Customers, minimum: int) -> bool:
    """Whether a cell's customers reach ``minimum`` (None: at least the most a tally keeps, which does)."""
    return customers is None or len(customers) >= minimum


def joined(sets: Iterable[Customers]) -> Customers:
    """The customers of several cells together."""
    together: set[str] = set()
    for customers in sets:
        if customers is None:
            return None
        together |= customers
    return frozenset(together)


@dataclass(frozen=True, slots=True)
class Atom:
    """The smallest group of a row: one value on each of the row's axes, its customers and responses."""

    values: tuple[str, ...]
    customers: Customers
    responses: int


@dataclass(frozen=True, slots=True)
class Pattern:
    """What of one row is shown: its total, and per axis the values whose cells are suppressed."""

    total_shown: bool
    hidden: tuple[frozenset[str], ...]

    def shows(self, axis: int, value: str) -> bool:
        return self.total_shown and value not in self.hidden[axis]


def suppress(
    atoms: Sequence[Atom], *, axes: int, minimum: int, forced: Sequence[Iterable[str]] = ()
) -> Pattern:
    """The suppression pattern of one row (a month and region) split by ``axes`` axes (see ``_suppress``).

    A pattern depends on the row alone, so each is worked out once per process and content: dashboards
    asking again cost nothing here. The cache is keyed by the row's content, so it is never stale.
    """
    return _cached(
        tuple(sorted(atoms, key=lambda a: a.values)),
        axes,
        minimum,
        tuple(frozenset(values) for values in forced),
    )


@lru_cache(maxsize=8192)
def _cached(atoms: tuple[Atom, ...], axes: int, minimum: int, forced: tuple[frozenset[str], ...]) -> Pattern:
    return _suppress(atoms, axes=axes, minimum=minimum, forced=forced)


def _suppress(atoms: Sequence[Atom], *, axes: int, minimum: int, forced: Sequence[Iterable[str]]) -> Pattern:
    """The suppression pattern of one row (a month and region) split by ``axes`` axes.

    Published are the row's total and, per axis, the cells of each value. Suppressed are the cells with
    fewer than ``minimum`` customers and those ``forced`` (per axis); then more cells, smallest first, until
    (1) per axis the suppressed cells together hold no customer or at least ``minimum``, and (2) no suppressed
    cell, and no atom with fewer than ``minimum`` customers, is a linear combination of what is published
    (so differencing the answers cannot single one out, whatever the axes share). A row whose total is too
    small is suppressed whole.
    """
    total = joined(a.customers for a in atoms)
    if not atoms or not enough(total, minimum):
        return Pattern(False, tuple(frozenset() for _ in range(axes)))
    cells = [_cells_of(atoms, axis) for axis in range(axes)]
    whole = frozenset(range(len(atoms)))
    hidden = [
        {v for v, cell in by_value.items() if not enough(cell.customers, minimum)}
        | ({*forced[axis]} & set(by_value) if axis < len(forced) else set())
        for axis, by_value in enumerate(cells)
    ]
    small = [frozenset({n}) for n, atom in enumerate(atoms) if not enough(atom.customers, minimum)]
    while True:
        for axis, by_value in enumerate(cells):
            _complement(hidden[axis], by_value, minimum)
        shown = [
            (axis, value, cell)
            for axis, by_value in enumerate(cells)
            for value, cell in by_value.items()
            if value not in hidden[axis] and cell.atoms != whole  # the total is published anyway
        ]
        span = _Span([whole, *(cell.atoms for _, _, cell in shown)], len(atoms))
        secret = [
            cell.atoms
            for axis, by_value in enumerate(cells)
            for value, cell in by_value.items()
            if value in hidden[axis] and cell.atoms != whole
        ]
        leak = next((using for s in (*secret, *small) if (using := span.combination(s)) is not None), None)
        if leak is None:
            return Pattern(True, tuple(frozenset(h) for h in hidden))
        # Suppress the smallest shown cell the leak is worked out from (index 0 is the total).
        used = [shown[n - 1] for n in leak if n > 0]
        if not used:
            return Pattern(False, tuple(frozenset() for _ in range(axes)))
        axis, value, _ = min(used, key=lambda c: (*_order(c[1], c[2]), c[0]))
        hidden[axis].add(value)


@dataclass(frozen=True, slots=True)
class _Cell:
    atoms: frozenset[int]
    customers: Customers
    responses: int


def _cells_of(atoms: Sequence[Atom], axis: int) -> dict[str, _Cell]:
    members: dict[str, list[int]] = {}
    for n, atom in enumerate(atoms):
        members.setdefault(atom.values[axis], []).append(n)
    return {
        value: _Cell(
            frozenset(ns), joined(atoms[n].customers for n in ns), sum(atoms[n].responses for n in ns)
        )
        for value, ns in members.items()
    }


def _order(value: str, cell: _Cell) -> tuple[float, int, str]:
    """Smallest first: fewest customers, then fewest responses, then by value (so the same every time)."""
    return (_size(cell.customers), cell.responses, value)


def _complement(hidden: set[str], cells: Mapping[str, _Cell], minimum: int) -> None:
    """Suppress the smallest shown cells of one axis until its suppressed cells hold none or enough."""
    if not hidden:
        return
    shown = sorted((v for v in cells if v not in hidden), key=lambda v: _order(v, cells[v]))
    while shown and not enough(joined(cells[v].customers for v in hidden), minimum):
        hidden.add(shown.pop(0))


# Linear algebra over the integers modulo a large prime: exact for these small 0/1 systems (a wrong answer
# would need the prime to divide a minor of the row's matrix), and far faster than rational arithmetic.
_PRIME = (1 << 61) - 1


class _Span:
    """The linear span of some 0/1 vectors over a row's atoms, with how each of its vectors is made.

    Rows are kept in reduced echelon form together with the combination of the original vectors each one
    is, so that a vector found in the span comes with the originals it is worked out from.
    """

    def __init__(self, vectors: Sequence[frozenset[int]], width: int) -> None:
        self._width = width
        self._rows: list[tuple[int, list[int], list[int]]] = []  # pivot, row, combination of originals
        for index, vector in enumerate(vectors):
            combination = [0] * len(vectors)
            combination[index] = 1
            row, combination = self._reduce([1 if n in vector else 0 for n in range(width)], combination)
            pivot = next((n for n, a in enumerate(row) if a), None)
            if pivot is None:
                continue
            inverse = pow(row[pivot], _PRIME - 2, _PRIME)
            row = [a * inverse % _PRIME for a in row]
            combination = [c * inverse % _PRIME for c in combination]
            for k, (other, other_row, other_combination) in enumerate(self._rows):
                factor = other_row[pivot]
                if factor:
                    self._rows[k] = (
                        other,
                        [(a - factor * b) % _PRIME for a, b in zip(other_row, row, strict=True)],
                        [
                            (a - factor * b) % _PRIME
                            for a, b in zip(other_combination, combination, strict=True)
                        ],
                    )
            self._rows.append((pivot, row, combination))
        self._originals = len(vectors)

    def _reduce(self, row: list[int], combination: list[int]) -> tuple[list[int], list[int]]:
        for pivot, reduced, made_of in self._rows:
            factor = row[pivot]
            if factor:
                row = [(a - factor * b) % _PRIME for a, b in zip(row, reduced, strict=True)]
                combination = [(a - factor * b) % _PRIME for a, b in zip(combination, made_of, strict=True)]
        return row, combination

    def combination(self, target: frozenset[int]) -> list[int] | None:
        """The indices of the original vectors ``target`` is a linear combination of, or None if it is not."""
        row, combination = self._reduce(
            [1 if n in target else 0 for n in range(self._width)], [0] * self._originals
        )
        if any(row):
            return None
        # row = target - (sum of combination's originals) = 0: target is made of those with a coefficient.
        return [n for n, c in enumerate(combination) if c]


def _size(customers: Customers) -> float:
    return float("inf") if customers is None else len(customers)


def publishable_period(period: Period, interval: Interval | None, *, today: date) -> Period:
    """The period a protected caller asks for, or a typed error: whole months that have ended, long enough."""
    if interval in (Interval.DAY, Interval.WEEK):
        raise InvalidInput(
            "daily and weekly buckets are for managers; use MONTH, QUARTER or the whole period",
            field="interval",
        )
    period = period.checked(interval)
    if period.first.day != 1:
        raise InvalidInput("the period must start on the first day of a month", field="from")
    if period.last + timedelta(days=1) != add_months(period.last, 1):
        raise InvalidInput("the period must end on the last day of a month", field="to")
    if period.last >= month_start(today):
        raise InvalidInput("the period must end before the current month", field="to")
    return period


def months_before(period: Period) -> Period:
    """As many whole months just before a whole-month period as it has."""
    count = len(months_of(period))
    first = add_months(period.first, -count)
    return Period(first, period.first - timedelta(days=1))
