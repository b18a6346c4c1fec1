"""Runs the Node scripts that drive headless Chromium, and reads their JSON reports."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHECK_TIMEOUT = 120.0


async def first_load(
    url: str, chromium: Path, *, switch_to: str = "-", screenshot: Path | None = None
) -> dict[str, Any]:
    """What a newcomer sees in GraphiQL without touching anything (see first_load.mjs)."""
    shot = [str(screenshot)] if screenshot else []
    return await run_node(["node", str(HERE / "first_load.mjs"), url, switch_to, *shot], chromium)


async def run_node(command: list[str], chromium: Path) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=HERE,
        env={**os.environ, "CHROMIUM": str(chromium)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CHECK_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, stderr.decode()
    report: dict[str, Any] = json.loads(stdout)
    return report
