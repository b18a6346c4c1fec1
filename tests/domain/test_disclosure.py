"""The publication lattice: what board and BI callers are shown cannot be taken apart.

The suppression pattern of a row is checked here against its guarantee with an independent linear-algebra
oracle: no suppressed cell, and no atom smaller than the minimum, is a linear combination of what is shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.aggregates.disclosure import Atom, Pattern, enough, joined, suppress

MINIMUM = 5
AXES = 3


def atom(values: str, *customers: str, responses: int | None = None) -> Atom:
    """An atom whose values on the three axes are the letters of ``values``."""
    return Atom(tuple(values), frozenset(customers), responses or len(customers))


def people(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{k}" for k in range(n)]


def rank(vectors: Sequence[Sequence[int]]) -> int:
    """The rank of some integer vectors over the rationals, by plain Gaussian elimination."""
    rows = [[Fraction(a) for a in v] for v in vectors]
    found = 0
    for column in range(len(rows[0]) if rows else 0):
        pivot = next((r for r in range(found, len(rows)) if rows[r][column]), None)
        if pivot is None:
            continue
        rows[found], rows[pivot] = rows[pivot], rows[found]
        for r in range(len(rows)):
            if r != found and rows[r][column]:
                factor = rows[r][column] / rows[found][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[found], strict=True)]
        found += 1
    return found


def indicator(members: set[int], width: int) -> list[int]:
    return [1 if n in members else 0 for n in range(width)]


def cells(atoms: Sequence[Atom], axis: int) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for n, a in enumerate(atoms):
        found.setdefault(a.values[axis], set()).add(n)
    return found


def recoverable(atoms: Sequence[Atom], pattern: Pattern) -> list[str]:
    """Every suppressed cell and small atom an attacker can work out from what the pattern shows."""
    width = len(atoms)
    if not pattern.total_shown:
        return []
    published = [indicator(set(range(width)), width)]
    secrets: list[tuple[str, set[int]]] = []
    for axis in range(AXES):
        for value, members in cells(atoms, axis).items():
            if pattern.shows(axis, value):
                published.append(indicator(members, width))
            elif members != set(range(width)):
                secrets.append((f"cell {axis}={value}", members))
    secrets += [(f"atom {a.values}", {n}) for n, a in enumerate(atoms) if not enough(a.customers, MINIMUM)]
    base = rank(published)
    return [name for name, members in secrets if rank([*published, indicator(members, width)]) == base]


def test_a_row_below_the_minimum_shows_nothing() -> None:
    pattern = suppress([atom("abc", *people("x", 4))], axes=AXES, minimum=MINIMUM)
    assert not pattern.total_shown
    assert not pattern.shows(0, "a")


def test_a_small_cell_is_hidden_with_the_smallest_shown_cell_of_its_axis() -> None:
    atoms = [
        atom("axx", *people("a", 20)),
        atom("bxx", *people("b", 8)),
        atom("cxx", *people("c", 6)),
        atom("dxx", *people("d", 2)),
    ]
    pattern = suppress(atoms, axes=AXES, minimum=MINIMUM)
    assert pattern.total_shown
    # d alone holds 2 customers: with c (the smallest shown) the hidden ones hold 8.
    assert pattern.hidden[0] == {"c", "d"}
    assert recoverable(atoms, pattern) == []


def test_small_cells_that_hold_enough_together_need_no_complement() -> None:
    atoms = [atom("axx", *people("a", 20)), atom("bxx", *people("b", 3)), atom("cxx", *people("c", 3))]
    assert suppress(atoms, axes=AXES, minimum=MINIMUM).hidden[0] == {"b", "c"}


def test_a_complement_shown_on_another_axis_is_hidden_there_too() -> None:
    # Channel w's responses are exactly touchpoint s's: showing s would show w, and w minus the rest gives k.
    atoms = [
        atom("aqm", *people("a", 30)),
        atom("wsm", *people("w", 6)),
        atom("kqm", *people("k", 2)),
    ]
    pattern = suppress(atoms, axes=AXES, minimum=MINIMUM)
    assert {"k", "w"} <= pattern.hidden[0]
    assert recoverable(atoms, pattern) == []


def test_the_pattern_depends_on_the_row_alone() -> None:
    atoms = [atom(v, *people(v, n)) for v, n in (("aaa", 9), ("bbb", 7), ("ccc", 7), ("ddd", 1))]
    first = suppress(atoms, axes=AXES, minimum=MINIMUM)
    assert suppress(list(reversed(atoms)), axes=AXES, minimum=MINIMUM) == first


customers = st.integers(0, 40).map(lambda n: people("c", n))


@st.composite
def rows(draw: st.DrawFn) -> list[Atom]:
    """A row: atoms on three small axes, each with some of a shared pool of customers."""
    keys = draw(
        st.lists(
            st.tuples(*(st.sampled_from("abcd") for _ in range(AXES))), min_size=1, max_size=14, unique=True
        )
    )
    pool = people("p", draw(st.integers(1, 40)))
    found = []
    for key in keys:
        who = draw(st.sets(st.sampled_from(pool), max_size=8))
        found.append(Atom(tuple(key), frozenset(who), len(who) + draw(st.integers(0, 3))))
    return found


@settings(max_examples=300, deadline=None)
@given(rows())
def test_no_suppressed_cell_or_small_atom_is_a_combination_of_what_is_shown(atoms: list[Atom]) -> None:
    pattern = suppress(atoms, axes=AXES, minimum=MINIMUM)
    assert recoverable(atoms, pattern) == []
    if pattern.total_shown:
        for axis in range(AXES):
            by_value = cells(atoms, axis)
            # Every shown cell has enough customers, and what is hidden holds none or enough together.
            hidden = [v for v in by_value if not pattern.shows(axis, v)]
            assert (
                enough(joined(atoms[n].customers for v in hidden for n in by_value[v]), MINIMUM) or not hidden
            )
            for value in by_value:
                if pattern.shows(axis, value):
                    assert enough(joined(atoms[n].customers for n in by_value[value]), MINIMUM)


def test_every_combination_of_a_tiny_row_is_safe() -> None:
    """Exhaustively: two values per axis, six of the eight atoms, each with 0, 2 or 6 customers."""
    keys = list(product("ab", repeat=AXES))[:6]
    for sizes in product((0, 2, 6), repeat=len(keys)):
        atoms = [
            Atom(key, frozenset(people("".join(key), n)), n) for key, n in zip(keys, sizes, strict=True) if n
        ]
        if atoms:
            assert recoverable(atoms, suppress(atoms, axes=AXES, minimum=MINIMUM)) == [], sizes
