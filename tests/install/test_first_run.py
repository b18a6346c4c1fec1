"""From scratch, as a newcomer and an operator would: a fresh clone's ``make serve``, and a wheel installed in
a new virtualenv and served from another directory. Each serves GraphiQL, which loads the schema by itself.

The clone is the repository's tracked files as they are in the working tree. These tests install packages
(from pip's cache when it has them) and take minutes on a loaded machine: ``-m "not install"`` skips them.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from api.storage.embedded import free_port
from tests.browser.driver import first_load

ROOT = Path(__file__).resolve().parents[2]
INSTALL_DEADLINE = 1200.0  # pip installing everything on a loaded machine
STOP_DEADLINE = 30.0

pytestmark = [pytest.mark.install, pytest.mark.browser]


class Child:
    """A command in its own process group (a terminal's foreground job), its output read line by line."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            process_group=0,
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)

    def wait_for(self, text: str, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    pytest.fail(f"exited {self.process.returncode} early:\n{''.join(self.output)}")
                continue
            self.output.append(line)
            if text in line:
                return
        pytest.fail(f"no {text!r} within {within:.0f} s:\n{''.join(self.output)}")

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the whole process group; waits for it to end."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            pytest.fail(f"still running {STOP_DEADLINE:.0f} s after Ctrl-C:\n{''.join(self.output)}")
        finally:
            self._reader.join(timeout=5)
            assert self.process.stdout is not None
            self.process.stdout.close()


def fresh_clone(into: Path) -> Path:
    """The repository's tracked files, copied as they are now: what a clone of this change holds."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.split(b"\0")):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = into / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


def clean_environment(**settings: str) -> dict[str, str]:
    """This environment without our settings and virtualenv, plus ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MONGODB_URI", "VIRTUAL_ENV", "PYTHONPATH") and not k.startswith("CUSTOMER360_")
    }
    ours = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if Path(p) != ours)
    return env | settings


def database_processes(storage: Path) -> list[int]:
    """Processes of an embedded database keeping its data in ``storage``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"secantusd" in a for a in args) and os.fsencode(storage) in args:
            found.append(int(cmdline.parent.name))
    return found


def assert_signed_in_and_answering(report: dict[str, Any], origin: str) -> None:
    first = report["first"]
    assert "query: Query" in first["docs"], "the Docs pane lists the schema without a click"
    assert first["role"] == "frontline"
    assert "customers(first: 3)" in first["query"]
    assert '"data"' in first["result"]
    assert '"errors"' not in first["result"], first["result"]
    assert report["failures"] == []
    assert report["errors"] == []
    # Offline: everything the page loads comes from this server (fonts are inlined as data: URLs).
    urls = [r["url"] for r in report["requests"]]
    assert [u for u in urls if not (u.startswith("data:") or urlsplit(u).netloc == origin)] == []


def test_a_fresh_clone_serves_graphiql_signed_in_after_make_serve(
    tmp_path: Path, chromium: Path, puppeteer: Path
) -> None:
    clone = fresh_clone(tmp_path / "clone")
    port = free_port()
    env = clean_environment(CUSTOMER360_PORT=str(port), CUSTOMER360_DEMO_CUSTOMERS="30")
    make = Child(["make", "serve"], cwd=clone, env=env)
    try:
        make.wait_for("Ctrl-C stops", INSTALL_DEADLINE)
        output = "".join(make.output)
        assert "Loaded in " in output
        # make serve installs what serving needs, not the development toolchain.
        site = (clone / ".venv" / "lib").glob("python*/site-packages/*.dist-info")
        installed = {p.name.split("-")[0].lower() for p in site}
        assert {"strawberry_graphql", "secantusdb"} <= installed
        assert not installed & {"pytest", "mypy", "ruff", "schemathesis"}

        report = asyncio.run(first_load(f"http://127.0.0.1:{port}/graphql", chromium))
        assert_signed_in_and_answering(report, f"127.0.0.1:{port}")
    finally:
        make.interrupt()
    assert database_processes(clone / ".customer360" / "db") == []


def test_a_wheel_in_a_new_virtualenv_serves_graphiql_offline_from_another_directory(
    tmp_path: Path, chromium: Path, puppeteer: Path
) -> None:
    source = fresh_clone(tmp_path / "source")
    env = clean_environment()
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(dist), str(source)], env)
    [wheel] = dist.glob("customer360-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    # GraphiQL's files are package data, fetched from npm when the wheel was built.
    assert "api/http/graphiql_assets/graphiql@3.8.3/graphiql.min.js" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in metadata

    # A new virtualenv; uv installs into it what pip would, in seconds instead of minutes.
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env)
    uv = [
        str(Path(sys.executable).with_name("uv")),
        "pip",
        "install",
        "--quiet",
        "--python",
        str(venv / "bin" / "python"),
    ]
    run([*uv, "--require-hashes", "-r", str(source / "requirements" / "serve.txt")], env)
    run([*uv, "--no-deps", str(wheel)], env)
    command = str(venv / "bin" / "customer360")
    assert run([command, "--version"], env).strip() == "customer360 0.1.0"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    settings = {"CUSTOMER360_PORT": str(port), "CUSTOMER360_DEMO_CUSTOMERS": "10"}
    serve = Child([command, "serve"], cwd=elsewhere, env=clean_environment(**settings))
    try:
        serve.wait_for("Ctrl-C stops", INSTALL_DEADLINE)
        report = asyncio.run(first_load(f"http://127.0.0.1:{port}/graphql", chromium))
        assert_signed_in_and_answering(report, f"127.0.0.1:{port}")
    finally:
        serve.interrupt()
    assert serve.process.returncode == 0
    assert (elsewhere / ".customer360" / "db").is_dir(), "its data lives under the working directory"
    assert database_processes(elsewhere / ".customer360" / "db") == []


def run(command: list[str], env: dict[str, str]) -> str:
    """Runs a set-up step; its output, or the test fails with it."""
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=INSTALL_DEADLINE, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout
