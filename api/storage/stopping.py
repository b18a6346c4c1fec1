"""The background loops' one way of waiting: until their next round, or until what ends them is set."""

from __future__ import annotations

import asyncio
import contextlib


async def stopped_within(event: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``event`` (the server stopping, or a loop's own end); whether it is set.
    A loop waiting this way ends as soon as the event is set, without being cancelled (on Python 3.11 a
    cancellation arriving as a driver call completes can be lost inside the driver)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)
    return event.is_set()
