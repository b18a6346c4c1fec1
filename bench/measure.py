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
    """The figures of one scenario on one target (an executor's endpoint or the reference).

    A run with any failed request (an error in the body, a status other than 200) is ``failed``: its
    figures would mix failures in, so reports show the failure instead of them.
    """

    scenario: str
    target: str
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # server process CPU per request
    db_cpu_ms: float | None  # database process CPU per request (None: not a process we started)
    commands: float  # database commands per request
    fields: int  # resolved fields in one response
    by_name: dict[str, float]  # database commands per request, by command name

    @property
    def failed(self) -> bool:
        return self.failures > 0

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
) -> tuple[Any, bool]:
    """The ``data`` of the first request's response (to count its fields and compare targets), and whether
    that request succeeded."""
    response = await client.post(path, content=orjson.dumps(scenario.body(data, 0)), headers=headers)
    return (response.json().get("data") if response.status_code == 200 else None), load.succeeded(response)


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
    db_pid: int | None = None,
) -> tuple[Measurement, Any]:
    """Warms up, then sends ``requests`` requests; returns the figures and one response's data."""
    shown, sampled = await sample(client, path, scenario, data, headers)
    await load.run(
        client,
        path,
        lambda n: scenario.body(data, n),
        headers=headers,
        requests=warmup,
        concurrency=concurrency,
    )
    commands_before, cpu_before = await commands_so_far(client), cpu_seconds(pid)
    db_before = cpu_seconds(db_pid) if db_pid is not None else None
    result = await load.run(
        client,
        path,
        lambda n: scenario.body(data, n),
        headers=headers,
        requests=requests,
        concurrency=concurrency,
    )
    cpu = cpu_seconds(pid) - cpu_before
    db_cpu = cpu_seconds(db_pid) - db_before if db_pid is not None and db_before is not None else None
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
        failures=result.failures + (0 if sampled else 1),
        per_second=result.per_second,
        p50_ms=result.percentile(0.5) * 1000,
        p99_ms=result.percentile(0.99) * 1000,
        cpu_ms=cpu * 1000 / requests,
        db_cpu_ms=db_cpu * 1000 / requests if db_cpu is not None else None,
        commands=sum(by_name.values()),
        fields=resolved_fields(shown),
        by_name=by_name,
    )
    return measurement, shown
