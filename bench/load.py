"""A bounded load generator: a fixed number of requests sent by a fixed number of concurrent workers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import httpx
import orjson


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What one bounded run saw from the client's side."""

    requests: int
    failures: int
    seconds: float
    latencies: tuple[float, ...]  # seconds, sorted

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        """The latency below which ``share`` of the requests finished."""
        return percentile(self.latencies, share)


def percentile(values: tuple[float, ...], share: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (0 when there are none)."""
    if not values:
        return 0.0
    return values[max(0, min(len(values) - 1, round(share * len(values)) - 1))]


def succeeded(response: httpx.Response) -> bool:
    """A 200 whose body carries no GraphQL errors."""
    if response.status_code != 200:
        return False
    body = orjson.loads(response.content)
    return isinstance(body, dict) and not body.get("errors")


async def run(
    client: httpx.AsyncClient,
    path: str,
    body: Callable[[int], dict[str, Any]],
    *,
    headers: dict[str, str],
    requests: int,
    concurrency: int,
) -> LoadResult:
    """Sends ``requests`` POSTs of ``body(n)`` to ``path``, ``concurrency`` at a time."""
    numbers = itertools.count()
    latencies: list[float] = []
    failures = 0

    async def worker() -> None:
        nonlocal failures
        while (n := next(numbers)) < requests:
            content = orjson.dumps(body(n))
            started = perf_counter()
            try:
                response = await client.post(path, content=content, headers=headers)
            except httpx.TransportError:
                ok = False  # the client gave up waiting (or lost the connection): a failure, not a crash
            else:
                ok = succeeded(response)
            latencies.append(perf_counter() - started)
            if not ok:
                failures += 1

    started = perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = perf_counter() - started
    return LoadResult(requests, failures, seconds, tuple(sorted(latencies)))
