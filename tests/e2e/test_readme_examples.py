"""The README's examples of the manager's loop, each run with the token it names against ``customer360 serve``
on its demo data: they run, and they show what the section says the demo holds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from api.storage.embedded import free_port
from tests.e2e.servers import Server

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
START_DEADLINE = 300.0  # loading the demo data on a busy machine


def section(heading: str) -> str:
    start = README.index(f"\n## {heading}")
    end = README.find("\n## ", start + 1)
    return README[start:end]


def examples() -> list[tuple[str, str]]:
    """Each example of the manager's loop: the role whose token it names, and the query."""
    found = []
    for block in re.findall(r"```graphql\n(.*?)```", section("The manager's loop"), re.S):
        role = re.search(r"#\s*(\w+) token", block)
        assert role is not None, f"an example names no token:\n{block}"
        found.append((role.group(1), block))
    return found


def fields(query: str) -> set[str]:
    return set(re.findall(r"\b(\w+)\s*[({]", query))


def test_the_manager_s_loop_examples_run_on_the_demo_data(tmp_path: Path) -> None:
    queries = examples()
    roots = set().union(*(fields(q) for _, q in queries))
    for root in ("serviceStandardWindows", "alerts", "loopPerformance", "recurringIssues", "digest"):
        assert root in roots, f"no README example of {root}"
    started = datetime.now(UTC)
    port = free_port()
    server = Server(tmp_path / "data", port)
    try:
        server.wait_for("GraphiQL at", time.monotonic() + START_DEADLINE)
        server.wait_for("  bi ", time.monotonic() + 10)
        answers: dict[str, Any] = {}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            for role, query in queries:
                headers = {"Authorization": f"Bearer {server.token(role)}"}
                body = http.post("/graphql", headers=headers, json={"query": query}).json()
                assert "errors" not in body, (query, body)
                answers |= body["data"]
    finally:
        code = server.stop()
    assert code == 0

    # North's deliveries: a standard set twice, a window broken, its tactical alert.
    assert len(answers["serviceStandardHistory"]) == 2
    verdicts = {t["verdict"] for day in answers["serviceStandardWindows"] for t in day["targets"]}
    assert "BROKEN" in verdicts
    tactical = [edge["node"]["tactical"] for edge in answers["alerts"]["edges"]]
    assert tactical
    assert all(t is not None and t["worstCells"] for t in tactical)
    # A team table with differences worth looking at.
    rows = answers["loopPerformance"]
    assert len(rows) > 2
    assert len({row["resolvedInTimeShare"] for row in rows}) > 1
    # Root causes with one rising.
    rising = [row["cause"] for row in answers["recurringIssues"] if row["rising"]]
    assert "carrier-delay" in rising
    # Yesterday's digest of north.
    digest = answers["digest"]
    days = (started.date(), datetime.now(UTC).date())
    assert digest["date"] in {(day - timedelta(days=1)).isoformat() for day in days}
    assert digest["regions"] == ["north"]
