"""The background loops' one way of waiting: until their next round, or until the server stops."""

from __future__ import annotations

import asyncio
import contextlib


async def stopped_within(stopping: asyncio.Event, seconds: float) -> bool:
    """Wait up to ``seconds`` for ``stopping``; whether it is set. A loop waiting this way ends as soon as
    the server stops, without being cancelled (on Python 3.11 a cancellation arriving as a driver call
    completes can be lost inside the driver)."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
    return stopping.is_set()
