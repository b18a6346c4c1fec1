"""Server processes for end-to-end tests: ``customer360 serve`` as a child, its output read line by line."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


class Server:
    """A ``customer360 serve`` child process whose output is read line by line in the background."""

    def __init__(self, data_dir: Path, port: int, env: dict[str, str] | None = None, *args: str) -> None:
        clean = {
            k: v for k, v in os.environ.items() if k != "MONGODB_URI" and not k.startswith("CUSTOMER360_")
        }
        clean |= {"CUSTOMER360_DATA_DIR": str(data_dir), **(env or {})}
        self.port = port
        # Its logs (JSON lines: stderr is no terminal) go to a file; its own process group stands for the
        # foreground job of a terminal, which Ctrl-C signals as a whole.
        self.log = data_dir.with_name(f"{data_dir.name}-serve-{port}.log")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("customer360")), "serve", "--port", str(port), *args],
                env=clean,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                process_group=0,
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

    def stop(self, sent: signal.Signals = signal.SIGTERM) -> int:
        """Sends ``sent`` (SIGINT: to the whole process group, as a terminal's Ctrl-C does); the exit code."""
        if sent is signal.SIGINT:
            os.killpg(self.process.pid, sent)
        else:
            self.process.send_signal(sent)
        code = self.process.wait(timeout=30)
        self._reader.join(timeout=5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code

    def log_lines(self) -> list[dict[str, object]]:
        """What it logged, one JSON object per line."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]
