"""Progress bars for the command line's long runs (seed, import, rollups)."""

from __future__ import annotations

from collections.abc import Callable

from tqdm import tqdm


def advance_to(bar: tqdm) -> Callable[[int], None]:  # type: ignore[type-arg]
    """A progress callback taking the running total of done units, for a domain function to call."""

    def advance(total: int) -> None:
        bar.update(total - bar.n)

    return advance


def advance_within(bar: tqdm) -> Callable[[int, int], None]:  # type: ignore[type-arg]
    """A progress callback taking the running total of done units and the total, once that is known."""

    def advance(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    return advance
