"""Runs a Node script of the suite (a stock client or a Chromium driver) and reads its JSON report."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

# Generous: a loaded machine stretches a browser's start several times.
NODE_TIMEOUT = 120.0


@contextlib.contextmanager
def exclusive(what: Path) -> Iterator[None]:
    """Held by one test process at a time (the suite runs in several, see pytest-xdist) while it sets up
    ``what``: two ``npm ci`` in one folder at once would leave neither's packages whole."""
    digest = hashlib.sha256(str(what.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"customer360-tests-{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def node_modules(folder: Path, *packages: str) -> Path:
    """``folder``'s node_modules, installed from its package-lock.json unless ``packages`` are all there."""
    modules = folder / "node_modules"
    with exclusive(folder):
        if not all((modules / name).is_dir() for name in packages):
            done = subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"],
                cwd=folder,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return modules


async def run_node(script: Path, *arguments: str, env: Mapping[str, str]) -> dict[str, Any]:
    """Runs ``node script arguments...`` in the script's folder; its standard output is one JSON report."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(script),
        *arguments,
        cwd=script.parent,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), NODE_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode()
    report: dict[str, Any] = json.loads(stdout)
    return report


async def run_in_chromium(script: Path, *arguments: str, chromium: Path) -> dict[str, Any]:
    """Runs a script that drives headless Chromium (``CHROMIUM`` names the browser's executable)."""
    return await run_node(script, *arguments, env={**os.environ, "CHROMIUM": str(chromium)})
