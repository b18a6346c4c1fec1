"""The server under test as a child process, and its CPU time read from ``/proc``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import httpx

from api.storage.embedded import free_port

START_TIMEOUT = 60.0
_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (the database's own process is apart)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may hold spaces, so split after its closing parenthesis: utime and stime are
    # fields 14 and 15 of the line, the 12th and 13th after the name.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def database_cpu_seconds(pid: int) -> float:
    """CPU time of every thread of the process so far, from the scheduler's nanosecond counters: finer than
    ``cpu_seconds``' clock ticks, for costs of a millisecond or less per operation."""
    total = 0
    for thread in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(Path(f"/proc/{pid}/task/{thread}/schedstat").read_text().split()[0])
        except FileNotFoundError:  # the thread ended meanwhile
            continue
    return total / 1e9


# The standing worker off: a server measuring reads does not also recompute, on a data set no worker has
# followed, every customer's standing meanwhile (``bench/standings.py`` measures the worker itself).
WORKER_OFF = {"CUSTOMER360_STANDING_WORKER": "false"}
WORKER_ON = {"CUSTOMER360_STANDING_WORKER": "true"}
# A process counts as quiet below this share of one core's time, over a whole window of QUIET_WINDOW seconds.
QUIET_SHARE = 0.05
QUIET_WINDOW = 1.0
SETTLE_TIMEOUT = 300.0


async def settle(pids: Sequence[int], *, give_up_after: float = SETTLE_TIMEOUT) -> float:
    """Wait until every one of ``pids`` has been quiet for a whole window; the seconds it took.

    A server started on a kept data set first catches up with the changes written since a standing worker
    last ran on it (every customer they name is recomputed), and the database rebuilds what a new version's
    start-up changed: measured meanwhile, the first target of a run read several times the database CPU of
    the next ones. Raises ``TimeoutError`` when they are still busy after ``give_up_after`` seconds."""
    began = time.monotonic()
    while True:
        before = [cpu_seconds(pid) for pid in pids]
        await asyncio.sleep(QUIET_WINDOW)
        used = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
        if all(u < QUIET_SHARE * QUIET_WINDOW for u in used):
            return time.monotonic() - began
        if time.monotonic() - began > give_up_after:
            busy = ", ".join(f"{pid}: {u:.2f} s" for pid, u in zip(pids, used, strict=True))
            raise TimeoutError(f"still busy after {give_up_after:.0f} s (CPU in the last second: {busy})")


class ServerProcess:
    """``uvicorn bench.server:create`` on a free loopback port, for the duration of a ``with`` block."""

    def __init__(
        self,
        *,
        mongodb_uri: str,
        database_name: str,
        jwt_secret: str,
        log_path: Path,
        targets: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {
            **os.environ,
            "MONGODB_URI": mongodb_uri,
            "CUSTOMER360_DATABASE_NAME": database_name,
            "CUSTOMER360_JWT_SECRET": jwt_secret,
            "CUSTOMER360_GRAPHIQL": "false",
            # The per-principal cost budget would throttle the bench's single caller: it measures execution.
            "CUSTOMER360_COST_BUDGET_PER_MINUTE": "0",
            # Which targets it serves (bench/server.py): all of them unless named.
            "CUSTOMER360_BENCH_TARGETS": ",".join(targets),
            **(env or {}),
        }
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> ServerProcess:
        command = [sys.executable, "-m", "uvicorn", "bench.server:create", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        command += ["--no-access-log"]
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, env=self._env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        assert self._process is not None
        with httpx.Client(base_url=self.url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise RuntimeError(f"the bench server exited early; see {self._log_path}")
                try:
                    if client.get("/_bench/stats").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                # Waiting on the process both paces the polling and notices a server that died.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.wait(timeout=0.05)
        self._stop()
        raise RuntimeError(
            f"the bench server did not answer within {START_TIMEOUT:.0f} s; see {self._log_path}"
        )

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()
