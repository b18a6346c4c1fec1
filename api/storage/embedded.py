"""The embedded development database: SecantusDB run as a child process on a loopback port.

SecantusDB is GPL-licensed; it is only ever started as a separate process, never imported.
"""

from __future__ import annotations

import shutil
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


class EmbeddedDatabase:
    """A SecantusDB server for this process's lifetime; use as a context manager."""

    def __init__(self, storage_path: Path | str, *, port: int | None = None, log_path: Path | None = None):
        self.storage_path = storage_path
        self.port = port or free_port()
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, *, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers a ping."""
        if self.storage_path != ":memory:":
            Path(self.storage_path).mkdir(parents=True, exist_ok=True)
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL  # noqa: SIM115
        command = [_executable(), "--host", "127.0.0.1", "--port", str(self.port)]
        # Without --sync-on-commit a crash loses writes that were already acknowledged.
        command += ["--storage-path", str(self.storage_path), "--sync-on-commit", "--log-level", "WARNING"]
        # The command is our own executable with our own settings, never user input.
        self._process = subprocess.Popen(  # noqa: S603
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self._wait_until_ready(timeout)

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            self.uri, serverSelectionTimeoutMS=250
        )
        try:
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise EmbeddedDatabaseError(
                        f"the embedded database exited with code {self._process.returncode} "
                        f"(is another server using {self.storage_path}?)"
                    )
                try:
                    client.admin.command("ping")
                    return
                except pymongo.errors.PyMongoError:
                    time.sleep(0.1)
        finally:
            client.close()
        self.stop()
        raise EmbeddedDatabaseError(f"the embedded database did not answer within {timeout:.0f} s")

    def stop(self, *, timeout: float = 10.0) -> None:
        """Ask the server to stop (SIGTERM), and kill it if it does not."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> EmbeddedDatabase:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
