"""``customer360 serve`` on a fresh machine: embedded database, demo data, tokens, a clean stop."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from api.embedded import free_port

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
CUSTOMER_360 = re.search(r"```graphql\n(query Customer360.*?)```", README, re.S)
START_DEADLINE = 60.0


class Server:
    """A ``customer360 serve`` child process whose output is read line by line in the background."""

    def __init__(self, data_dir: Path, port: int) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI" and not k.startswith("CUSTOMER360_")}
        env |= {"CUSTOMER360_DATA_DIR": str(data_dir), "CUSTOMER360_GRAPHIQL": "false"}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("customer360")), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, f"serve exited early:\n{''.join(self.output)}"
                continue
            self.output.append(line)
            if text in line:
                return
        pytest.fail(f"no {text!r} within the deadline:\n{''.join(self.output)}")

    def token(self, role: str) -> str:
        for line in self.output:
            if line.strip().startswith(role + " "):
                return line.split()[1]
        raise AssertionError(f"no {role} token printed")

    def children(self) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_starts_the_embedded_database_loads_demo_data_and_stops_cleanly(data_dir: Path) -> None:
    port = free_port()
    server = Server(data_dir, port)
    try:
        server.wait_for("GraphiQL at", time.monotonic() + START_DEADLINE)
        server.wait_for("integration", time.monotonic() + 5)
        assert any("DEVELOPMENT ONLY" in line for line in server.output)
        assert any("loading the demo data set" in line for line in server.output)
        embedded = server.children()
        assert len(embedded) == 1, "the embedded database runs as one child process"

        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            headers = {"Authorization": f"Bearer {server.token('frontline')}"}
            listing = http.post(
                "/graphql",
                headers=headers,
                json={"query": "{ customers(first: 5) { edges { node { id } } } }"},
            )
            edges = listing.json()["data"]["customers"]["edges"]
            assert len(edges) == 5
            assert CUSTOMER_360 is not None
            body = http.post(
                "/graphql",
                headers=headers,
                json={"query": CUSTOMER_360.group(1), "variables": {"id": edges[0]["node"]["id"]}},
            ).json()
            assert "errors" not in body, body
            customer = body["data"]["customer"]
            for connection in ("transactions", "interactions", "cases", "feedback", "opportunities"):
                assert isinstance(customer[connection]["totalCount"], int)
            assert customer["timeline"]["edges"]
            assert customer["metrics"]["responses"] == customer["feedback"]["totalCount"]
    finally:
        code = server.stop()
    assert code == 0
    assert not any(alive(pid) for pid in embedded), "the embedded database stopped with the server"

    again = Server(data_dir, port)
    try:
        again.wait_for("GraphiQL at", time.monotonic() + START_DEADLINE)
        assert not any("demo data" in line for line in again.output), "a second start keeps the data"
    finally:
        assert again.stop() == 0
