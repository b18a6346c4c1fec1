"""The bench waits for the server and the database to be quiet before it measures."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from bench.process import settle


def running(code: str) -> Iterator[int]:
    """The pid of a Python process running ``code``, killed afterwards."""
    process = subprocess.Popen([sys.executable, "-c", code])
    yield process.pid
    process.kill()
    process.wait()


@pytest.fixture
def idle() -> Iterator[int]:
    yield from running("import time; time.sleep(120)")


@pytest.fixture
def busy() -> Iterator[int]:
    yield from running("while True: pass")


async def test_quiet_processes_are_settled_at_once(idle: int) -> None:
    # Generous: one window of a second is enough for a sleeping process, however loaded the machine.
    assert await settle([idle], give_up_after=60) < 30


async def test_a_process_that_stays_busy_is_reported_not_measured(idle: int, busy: int) -> None:
    with pytest.raises(TimeoutError, match="still busy"):
        await settle([idle, busy], give_up_after=2)
