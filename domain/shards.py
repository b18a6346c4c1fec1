"""Spreading the concurrent writers of a hot document over shards.

Transactions that write the same document conflict, and all but one are retried whole. Where concurrent
writes would meet on one document (a rollup cell, a day's pack of alert handling), each record is written
into one of several shards of it instead, chosen by its id, and reads take the shards together.
"""

from __future__ import annotations

import zlib


def shard_of(key: str, shards: int) -> int:
    """The shard of ``shards`` the record ``key`` (its id) is written in: stable across processes and
    versions, unlike ``hash()``, so every write of one record lands in the same shard."""
    return zlib.crc32(key.encode()) % shards
