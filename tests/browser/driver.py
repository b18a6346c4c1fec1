"""What a newcomer sees in GraphiQL, read from headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.node import run_in_chromium

HERE = Path(__file__).resolve().parent


async def first_load(
    url: str, chromium: Path, *, switch_to: str = "-", screenshot: Path | None = None
) -> dict[str, Any]:
    """What a newcomer sees in GraphiQL without touching anything (see first_load.mjs)."""
    shot = [str(screenshot)] if screenshot else []
    return await run_in_chromium(HERE / "first_load.mjs", url, switch_to, *shot, chromium=chromium)
