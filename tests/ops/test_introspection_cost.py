"""Introspection is priced by what it returns, and its CPU-bound work neither holds the server nor outlives
the time limit."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from graphql import get_introspection_query

from api.settings import Settings
from api.storage.embedded import free_port
from auth.principal import Role
from tests.ops.load import wait_until
from tests.ops.test_graceful_shutdown import serve, served

DEADLINE = 60.0
# What the issue found: aliased walks the old formula priced at 6 each, 1.2 s of CPU for 30 of them here.
WALK = "__schema { types { fields { type { ofType { fields { name } } } } } }"
# A heavier walk, about 3 s of CPU for 30 of them on this machine.
DEEP_WALK = (
    "__schema { types { name description fields { name description"
    " args { name description type { name ofType { name } } }"
    " type { name ofType { name ofType { name fields { name description type { name } } } } } } } }"
)


# Walks in one operation for the time limit to stop: ten times what a quiet machine does in its 3 s, so the
# limit fires however fast the machine is.
HEAVY = 300


def aliased(walk: str, times: int = 30) -> str:
    return "{ " + " ".join(f"a{n}: {walk}" for n in range(times)) + " }"


@contextlib.contextmanager
def server(settings: Settings, tmp_path: Path, **env: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = serve(settings, port, tmp_path / "server.log", env)
    try:
        wait_until(lambda: served(url), deadline=time.monotonic() + 30, message="serve did not start")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


def objects(value: Any) -> int:
    """How many objects a response holds (lists count each item)."""
    if isinstance(value, dict):
        return 1 + sum(objects(v) for v in value.values())
    if isinstance(value, list):
        return sum(objects(v) for v in value)
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_introspection_costs_what_it_returns(settings: Settings, token: Any, tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    with server(settings, tmp_path) as (url, _), httpx.Client(base_url=url, timeout=DEADLINE) as http:
        standard = http.post(
            "/graphql", json={"query": get_introspection_query(descriptions=True)}, headers=headers
        )
        walks = http.post("/graphql", json={"query": aliased(WALK)}, headers=headers)

    assert standard.status_code == 200, standard.text
    cost = standard.json()["extensions"]["cost"]
    # The response's data object stands for the query root, which costs nothing.
    returned = objects(standard.json()["data"]) - 1
    # Every object returned is priced before it runs, and charged.
    assert cost["requested"] == cost["actual"] == returned, (cost, returned)
    assert returned < cost["maximum"], "the standard introspection query (GraphiQL, codegen) must still run"

    assert walks.status_code == 400, walks.text[:300]
    [error] = walks.json()["errors"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "cost"}
    assert "data" not in walks.json()


def test_the_time_limit_stops_introspection_and_health_checks_are_answered_meanwhile(
    settings: Settings, token: Any, tmp_path: Path
) -> None:
    env = {
        # Let the walks run, to see what the time limit does with them.
        "CUSTOMER360_MAX_COST": str(10**9),
        "CUSTOMER360_COST_BUDGET_PER_MINUTE": "0",
        "CUSTOMER360_MAX_ALIASES": str(HEAVY),
        "CUSTOMER360_MAX_TOKENS": str(10**6),
        # Long enough that the health check below, sent half a second in, is answered well before the
        # walks run out of time, however loaded the machine (each walk keeps a core busy until then).
        "CUSTOMER360_REQUEST_TIMEOUT_SECONDS": "8",
    }
    headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
    answers: list[tuple[float, int, dict[str, Any]]] = []

    with (
        server(settings, tmp_path, **env) as (url, pid),
        httpx.Client(base_url=url, timeout=DEADLINE) as http,
    ):

        def walk() -> None:
            response = http.post("/graphql", json={"query": aliased(DEEP_WALK, HEAVY)}, headers=headers)
            answers.append((time.monotonic(), response.status_code, response.json()))

        walkers = [threading.Thread(target=walk) for _ in range(2)]
        for walker in walkers:
            walker.start()
        time.sleep(0.5)
        health = http.get("/healthz")
        healthy_at = time.monotonic()
        for walker in walkers:
            walker.join(timeout=DEADLINE)
        answered_at = time.monotonic()
        used = cpu_seconds(pid)
        time.sleep(2)
        # Nothing goes on computing a response nobody will get.
        after = cpu_seconds(pid) - used

    assert health.status_code == 200
    assert len(answers) == 2
    outcomes = [
        (status, [e["extensions"]["code"] for e in body.get("errors", ())]) for _, status, body in answers
    ]
    assert outcomes == [(504, ["TIMEOUT"])] * 2, outcomes
    # The health check sent while both walks ran was answered before either of them.
    assert healthy_at < min(at for at, _, _ in answers) <= answered_at
    assert after < 1.0, f"the server used {after:.1f} s of CPU after answering"
