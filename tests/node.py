"""Runs a Node script of the suite (a stock client or a Chromium driver) and reads its JSON report."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Generous: a loaded machine stretches a browser's start several times.
NODE_TIMEOUT = 120.0


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
