"""The embedded development database: SecantusDB run as a child process on a loopback port.

SecantusDB is GPL-licensed; it is only ever started as a separate process, never imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import pymongo


class EmbeddedDatabaseError(RuntimeError):
    """The embedded database could not be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _executable() -> str:
    beside_python = Path(sys.executable).with_name("secantusd-py")
    found = str(beside_python) if beside_python.exists() else shutil.which("secantusd-py")
    if found is None:
        raise EmbeddedDatabaseError(
            "secantusd-py not found: install the embedded extra (pip install 'customer360[embedded]') "
            "or set MONGODB_URI"
        )
    return found


def _terminate_with_parent() -> None:
    """In the child before it runs: ask Linux to send it SIGTERM when its parent dies (elsewhere, nothing)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1
PORT_ATTEMPTS = 3


class _PortTaken(Exception):
    """Another server answered on the port, and ours exited (it could not bind it)."""


_KNOCK_EVERY = 0.25
_SIGNAL_AGAIN_AFTER = 2.0


class EmbeddedDatabase:
    """A SecantusDB server for this process's lifetime; use as a context manager."""

    def __init__(self, storage_path: Path | str, *, port: int | None = None, log_path: Path | None = None):
        self.storage_path = storage_path
        self._port_chosen = port is None
        self.port = port or free_port()
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs (the bench reads its CPU time)."""
        return self._process.pid if self._process is not None else None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, *, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers; on another port if one it chose was taken meanwhile."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                self._launch(timeout)
                return
            except _PortTaken:
                if not self._port_chosen or attempt == PORT_ATTEMPTS:
                    raise EmbeddedDatabaseError(f"another server listens on port {self.port}") from None
                self.port = free_port()

    def _launch(self, timeout: float) -> None:
        if self.storage_path != ":memory:":
            Path(self.storage_path).mkdir(parents=True, exist_ok=True)
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        command = [_executable(), "--host", "127.0.0.1", "--port", str(self.port)]
        # Without --sync-on-commit a crash loses writes that were already acknowledged.
        command += ["--storage-path", str(self.storage_path), "--sync-on-commit", "--log-level", "WARNING"]
        # The command is our own executable with our own settings, never user input. In its own session, a
        # terminal's Ctrl-C (sent to the whole foreground process group) does not reach it: the server stops
        # first, then stops it; and should this process die without stopping it, it is sent SIGTERM.
        self._process = subprocess.Popen(  # noqa: S603
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_terminate_with_parent,
        )
        self._wait_until_ready(timeout)

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            self.uri, serverSelectionTimeoutMS=250
        )
        answered_by: object = None  # the process id of the server that answered on the port
        try:
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    if answered_by is not None:
                        raise _PortTaken
                    raise EmbeddedDatabaseError(
                        f"the embedded database exited with code {self._process.returncode} "
                        f"(is another server using {self.storage_path}?)"
                    )
                try:
                    answered_by = client.admin.command("serverStatus").get("pid")
                except pymongo.errors.PyMongoError:
                    time.sleep(0.1)
                    continue
                if answered_by == self._process.pid:
                    return
                # Another server took the port between its choice and our bind: ours exits, and its
                # answers would go to requests meant for this one (a test that freezes this one, say).
                time.sleep(0.1)
        finally:
            client.close()
        self.stop()
        raise EmbeddedDatabaseError(f"the embedded database did not answer within {timeout:.0f} s")

    def stop(self, *, timeout: float = 10.0) -> None:
        """Ask the server to stop (SIGTERM), and kill it if it has not within ``timeout`` seconds.

        SecantusDB's accept loop only notices it should stop when a connection arrives (else it waits two
        seconds for it), so each quarter of a second without an exit knocks once; a SIGTERM it may have
        missed is sent again every two seconds.
        """
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        deadline = signalled = time.monotonic()
        deadline += timeout
        while True:
            try:
                process.wait(_KNOCK_EVERY)
                return
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if now > deadline:
                process.kill()
                process.wait()
                return
            if now - signalled > _SIGNAL_AGAIN_AFTER:
                process.terminate()
                signalled = now
            self._knock()

    def _knock(self) -> None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
            pass

    def __enter__(self) -> EmbeddedDatabase:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
