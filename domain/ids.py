"""Record identifiers: 24 lowercase hex characters, time-ordered like a MongoDB ObjectId."""

from __future__ import annotations

import re
import secrets
import time

_ID = re.compile(r"^[0-9a-f]{24}$")


def new_id(*, at: float | None = None) -> str:
    """A fresh id: 4 bytes of seconds since the epoch, then 8 random bytes."""
    seconds = int(time.time() if at is None else at)
    return f"{seconds:08x}{secrets.token_hex(8)}"


def is_valid_id(value: str) -> bool:
    """True when ``value`` has the shape of a record id."""
    return bool(_ID.match(value))
