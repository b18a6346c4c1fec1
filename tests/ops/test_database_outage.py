"""The database stops and comes back under load: typed errors meanwhile, full service after, no lost write."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.settings import Settings
from api.storage.client import create_client
from api.storage.embedded import EmbeddedDatabase
from auth.principal import Role
from domain.repositories import Repositories
from tests import factories as f
from tests.conftest import client_for

# Reading unmasked personal data writes audit entries before the response: each 200 is an acknowledged write.
QUERY = "{ customers(first: 5) { edges { node { displayName emails } } } }"
DEADLINE = 60.0


class Traffic:
    """Concurrent clients posting QUERY through one in-process app until told to stop."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str], workers: int = 4) -> None:
        self.http = http
        self.headers = headers
        # (request id, answered at, seconds taken, status, body)
        self.results: list[tuple[str, float, float, int, dict[str, Any]]] = []
        self._stopping = asyncio.Event()
        self._tasks = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def _work(self) -> None:
        while not self._stopping.is_set() and len(self.results) < 5000:
            started = time.monotonic()
            response = await self.http.post("/graphql", json={"query": QUERY}, headers=self.headers)
            now = time.monotonic()
            self.results.append(
                (response.headers["x-request-id"], now, now - started, response.status_code, response.json())
            )
            # Yield between requests so the outage and the checks interleave with the load.
            await asyncio.sleep(0)

    def count(self, *, since: float, status: int) -> int:
        return sum(1 for _, at, _, code, _ in self.results if at >= since and code == status)

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks)


async def poll(condition: Any, message: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(message)
        await asyncio.sleep(0.05)


async def test_database_outage_gives_typed_errors_then_full_service_and_keeps_acknowledged_writes(
    settings: Settings, token: Any, tmp_path: Path
) -> None:
    database = EmbeddedDatabase(tmp_path / "db")
    database.start()
    try:
        settings = settings.model_copy(update={"mongodb_uri": database.uri, "database_name": "outage"})
        client = create_client(database.uri)
        repos = Repositories.on(client["outage"])
        await repos.customers.insert_many([f.customer() for _ in range(5)])
        headers = {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}

        async with client_for(settings) as http:
            traffic = Traffic(http, headers)
            began = time.monotonic()

            async def served(since: float, n: int) -> bool:
                return traffic.count(since=since, status=200) >= n

            await poll(lambda: served(began, 10), "no request succeeded before the outage")

            stopped = time.monotonic()
            await asyncio.to_thread(database.stop)

            async def refused() -> bool:
                return (
                    traffic.count(since=stopped, status=503) >= 5
                    and (await http.get("/readyz")).status_code == 503
                )

            await poll(refused, "no typed UNAVAILABLE answers while the database was down")

            await asyncio.to_thread(database.start)
            restarted = time.monotonic()
            await poll(lambda: served(restarted, 10), "service did not come back after the database did")
            assert (await http.get("/readyz")).status_code == 200
            await traffic.stop()

        outcomes = Counter(
            (status, tuple(e["extensions"]["code"] for e in body.get("errors", ())))
            for _, _, _, status, body in traffic.results
        )
        assert set(outcomes) <= {(200, ()), (503, ("UNAVAILABLE",))}, outcomes
        # Failing fast: no waiting for the driver's server selection timeout (5 s).
        refusals = [took for _, _, took, status, _ in traffic.results if status == 503]
        assert statistics.median(refusals) < 0.5

        acknowledged = {request_id for request_id, _, _, status, _ in traffic.results if status == 200}
        stored = set(await client["outage"]["audit"].distinct("requestId"))
        assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged writes are missing"
        await client.close()
    finally:
        database.stop()
