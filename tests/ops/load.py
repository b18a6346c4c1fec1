"""A bounded load for fault tests: a few workers posting one operation each in turn, every result kept."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Shot:
    """One request: when it started and ended, and its status (None when no response came)."""

    request_id: str
    started: float
    ended: float
    status: int | None
    body: dict[str, Any] | None
    failure: str | None = None


@dataclass
class Load:
    """``workers`` threads posting ``payload`` to ``url`` on a fresh connection each, until stopped.

    ``payload`` is the same body every time, or a function of the request id making each one its own.
    """

    url: str
    payload: dict[str, Any] | Callable[[str], dict[str, Any]]
    headers: dict[str, str]
    workers: int = 6
    max_requests: int = 2000
    shots: list[Shot] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _serial: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        for n in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"load-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self._threads), "a load worker did not stop"

    def done(self) -> int:
        with self._lock:
            return len(self.shots)

    def _work(self) -> None:
        while not self._stop.is_set() and next(self._serial) < self.max_requests:
            request_id = f"load-{threading.current_thread().name}-{time.monotonic_ns()}"
            started = time.monotonic()
            try:
                # A new connection per request: a refused connection then means "not accepted".
                payload = self.payload(request_id) if callable(self.payload) else self.payload
                response = httpx.post(
                    self.url,
                    json=payload,
                    headers={**self.headers, "X-Request-Id": request_id},
                    timeout=60,
                )
                shot = Shot(request_id, started, time.monotonic(), response.status_code, response.json())
            except httpx.TransportError as error:
                shot = Shot(request_id, started, time.monotonic(), None, None, type(error).__name__)
            with self._lock:
                self.shots.append(shot)


def wait_until(condition: Any, *, deadline: float, message: str) -> None:
    """Polls ``condition`` until it holds or the deadline passes (then fails with ``message``)."""
    event = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        event.wait(0.02)
