"""One measured run of one scenario against one target: client-side latency, server CPU and commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from bench import load
from bench.datasets import DataSet
from bench.process import cpu_seconds
from bench.scenarios import Scenario


@dataclass(frozen=True, slots=True)
class Measurement:
    """The figures of one scenario on one target (an executor's endpoint or the reference)."""

    scenario: str
    target: str
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # server process CPU per request
    commands: float  # database commands per request
    fields: int  # resolved fields in one response
    by_name: dict[str, float]  # database commands per request, by command name

    @property
    def us_per_field(self) -> float:
        return self.cpu_ms * 1000 / self.fields if self.fields else 0.0


def resolved_fields(value: Any) -> int:
    """How many fields a response's data holds: every key of every object, at every depth."""
    if isinstance(value, dict):
        return len(value) + sum(resolved_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(resolved_fields(v) for v in value)
    return 0


async def commands_so_far(client: httpx.AsyncClient) -> dict[str, int]:
    """The server's count of database commands sent for requests so far, by name."""
    response = await client.get("/_bench/stats")
    response.raise_for_status()
    counts: dict[str, int] = response.json()["byName"]
    return counts


async def sample(
    client: httpx.AsyncClient, path: str, scenario: Scenario, data: DataSet, headers: dict[str, str]
) -> Any:
    """The ``data`` of the first request's response, to count its fields and compare targets."""
    response = await client.post(path, content=orjson.dumps(scenario.body(data, 0)), headers=headers)
    response.raise_for_status()
    return response.json().get("data")


async def measure(
    client: httpx.AsyncClient,
    *,
    pid: int,
    path: str,
    target: str,
    scenario: Scenario,
    data: DataSet,
    headers: dict[str, str],
    requests: int,
    concurrency: int,
    warmup: int,
) -> tuple[Measurement, Any]:
    """Warms up, then sends ``requests`` requests; returns the figures and one response's data."""
    shown = await sample(client, path, scenario, data, headers)
    await load.run(
        client,
        path,
        lambda n: scenario.body(data, n),
        headers=headers,
        requests=warmup,
        concurrency=concurrency,
    )
    commands_before, cpu_before = await commands_so_far(client), cpu_seconds(pid)
    result = await load.run(
        client,
        path,
        lambda n: scenario.body(data, n),
        headers=headers,
        requests=requests,
        concurrency=concurrency,
    )
    cpu = cpu_seconds(pid) - cpu_before
    commands_after = await commands_so_far(client)
    by_name = {
        name: (count - commands_before.get(name, 0)) / requests
        for name, count in sorted(commands_after.items())
        if count != commands_before.get(name, 0)
    }
    measurement = Measurement(
        scenario=scenario.name,
        target=target,
        requests=result.requests,
        failures=result.failures,
        per_second=result.per_second,
        p50_ms=result.percentile(0.5) * 1000,
        p99_ms=result.percentile(0.99) * 1000,
        cpu_ms=cpu * 1000 / requests,
        commands=sum(by_name.values()),
        fields=resolved_fields(shown),
        by_name=by_name,
    )
    return measurement, shown
