"""Progress bars for the command line's long runs (seed, import, rollups)."""

from __future__ import annotations

from collections.abc import Callable

from tqdm import tqdm


def advance_to(bar: tqdm) -> Callable[[int], None]:  # type: ignore[type-arg]
    """A progress callback taking the running total of done units, for a domain function to call."""

    def advance(total: int) -> None:
        bar.update(total - bar.n)

    return advance
