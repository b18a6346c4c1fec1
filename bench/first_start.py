"""First and second start of ``customer360 serve``: how long a newcomer waits for a first answer.

The first start finds an empty embedded database and loads the demo data set into it; the second starts on
that database again. Each is timed from the command's launch (what ``make serve`` runs after its install
step) to the first answer to the README's first query with the printed frontline token, then stopped with
Ctrl-C (SIGINT to its process group, as a terminal sends it) and timed until the server and the database have
both exited.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from api.storage.embedded import free_port
from bench.process import cpu_seconds

TITLE = "## First start"
FIRST_QUERY = "{ customers(first: 3) { edges { node { id displayName segment region } } } }"
FIRST_TARGET, SECOND_TARGET = 30.0, 5.0
DEADLINE = 900.0
_TOKEN = re.compile(r"^\s+frontline\s+(eyJ\S+)")
_PHASES = (
    ("database", "Empty database:"),  # the embedded database answered and was found empty
    ("loaded", "Loaded in "),
    ("banner", "customer360 is running"),
)


@dataclass
class Start:
    """One start, its times in seconds from the launch."""

    label: str
    phases: dict[str, float] = field(default_factory=dict)
    answer: float = 0.0
    server_cpu: float = 0.0  # the customer360 process, up to the first answer
    database_cpu: float = 0.0  # the embedded database's process, likewise
    stop: float = 0.0  # from Ctrl-C until both processes exited
    summary: str = ""  # the demo load's own line, when there was one


def measure(*, customers: int) -> tuple[Start, Start]:
    """Both starts, on a fresh data directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="customer360-first-start-") as data_dir:
        first = _start("first: empty database, demo data set", Path(data_dir), customers)
        second = _start("second: the same database", Path(data_dir), customers)
    return first, second


def _start(label: str, data_dir: Path, customers: int) -> Start:
    env = {k: v for k, v in os.environ.items() if k != "MONGODB_URI" and not k.startswith("CUSTOMER360_")}
    port = free_port()
    env |= {
        "CUSTOMER360_DATA_DIR": str(data_dir),
        "CUSTOMER360_PORT": str(port),
        "CUSTOMER360_DEMO_CUSTOMERS": str(customers),
    }
    start = Start(label)
    lines: queue.Queue[tuple[float, str]] = queue.Queue()
    launched = time.monotonic()
    with (data_dir.parent / f"{data_dir.name}.log").open("ab") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("customer360")), "serve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
            process_group=0,
        )
    assert process.stdout is not None
    reader = threading.Thread(target=_read, args=(process.stdout, lines), daemon=True)
    reader.start()
    database: int | None = None
    try:
        token = _follow(process, lines, start, launched)
        database = _database_pid(process.pid)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            headers = {"Authorization": f"Bearer {token}"}
            while time.monotonic() < launched + DEADLINE:
                answer = client.post("/graphql", headers=headers, json={"query": FIRST_QUERY})
                if answer.status_code == 200 and "errors" not in answer.json():
                    break
                time.sleep(0.02)
            else:
                raise RuntimeError(f"no first answer: {answer.text}")
        start.answer = time.monotonic() - launched
        start.server_cpu = cpu_seconds(process.pid)
        start.database_cpu = cpu_seconds(database) if database else 0.0
    finally:
        interrupted = time.monotonic()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
        process.wait(60)
        while database is not None and _alive(database) and time.monotonic() < interrupted + 60:
            time.sleep(0.01)
        start.stop = time.monotonic() - interrupted
        reader.join(5)
        process.stdout.close()
    while not lines.empty():
        _note(start, *lines.get(), launched)
    return start


def _read(stream: IO[str], lines: queue.Queue[tuple[float, str]]) -> None:
    for line in stream:
        lines.put((time.monotonic(), line))


def _follow(
    process: subprocess.Popen[str], lines: queue.Queue[tuple[float, str]], start: Start, t0: float
) -> str:
    """Reads the output until the frontline token is printed, noting when each phase was reached."""
    while time.monotonic() < t0 + DEADLINE:
        try:
            at, line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                raise RuntimeError(f"customer360 serve exited with {process.returncode}") from None
            continue
        _note(start, at, line, t0)
        if token := _TOKEN.match(line):
            return token.group(1)
    raise RuntimeError("customer360 serve printed no frontline token")


def _note(start: Start, at: float, line: str, t0: float) -> None:
    for phase, marker in _PHASES:
        if line.startswith(marker) and phase not in start.phases:
            start.phases[phase] = at - t0
            if phase == "loaded":
                start.summary = line.strip()


def _database_pid(server: int) -> int | None:
    """The embedded database the server started (a child of it)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2 :].split()[1]) == server and b"secantusd" in cmdline:
            return int(stat.parent.name)
    return None


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def render(first: Start, second: Start, *, command: str, customers: int, load: float) -> list[str]:
    """The report's section."""

    def phase(start: Start, name: str) -> str:
        return f"{start.phases[name]:.1f}" if name in start.phases else "-"

    rows = [
        f"| {s.label} | {phase(s, 'database')} | {phase(s, 'loaded')} | {phase(s, 'banner')} "
        f"| {s.answer:.1f} | {s.server_cpu:.1f} | {s.database_cpu:.1f} | {s.stop:.1f} |"
        for s in (first, second)
    ]

    def verdict(s: Start, target: float) -> str:
        return f"**{s.answer:.1f} s** ({'meets' if s.answer <= target else 'misses'} ≤ {target:.0f} s)"

    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    method = " ".join(
        [
            f"`{command}` on {when}, one run; load average {load:.1f} on {os.cpu_count()} cores when it",
            "began (the machine is shared: wall times stretch with its load, CPU times much less).",
            "`customer360 serve` on an empty embedded database loading the demo data set",
            f"({customers} customers), then again on the same database. Seconds from the command's launch",
            "(what `make serve` runs after its install step): the database found empty (it answered), the",
            "demo data loaded, the banner printed, the first answer to the README's first query with the",
            "printed frontline token; CPU of the server and of the database processes up to then; and from",
            "Ctrl-C (SIGINT to the process group) until both exited.",
        ]
    )
    return [
        TITLE,
        "",
        method,
        "",
        "| start | database s | demo data loaded s | banner s | first answer s | server CPU s "
        "| database CPU s | Ctrl-C to stopped s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        "",
        f"- The load's own line: {first.summary}" if first.summary else "- No demo load was reported.",
        f"- First start to the first answer: {verdict(first, FIRST_TARGET)}; second start: "
        f"{verdict(second, SECOND_TARGET)}.",
    ]
