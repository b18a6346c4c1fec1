"""The cost budget of each principal: a token bucket holding a minute's worth, refilled continuously.

It lives in the process, so with several replicas each one grants the budget on its own: it protects a
replica from one caller, it is not an accounting record (set the budget per replica accordingly).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# Principals past this many are forgotten least recently used first (they start again with a full bucket).
MAX_PRINCIPALS = 100_000


@dataclass(frozen=True, slots=True)
class Charge:
    """The outcome of asking for ``cost``: granted or not, and what is left."""

    granted: bool
    remaining: int | None  # None when the budget is off
    retry_after: float = 0.0


@dataclass(slots=True)
class _Bucket:
    level: float
    at: float


class CostBudget:
    """``per_minute`` cost per principal; 0 turns the budget off."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0

    def _bucket(self, principal: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(principal)
        if bucket is None:
            bucket = self._buckets[principal] = _Bucket(float(self.per_minute), now)
            if len(self._buckets) > MAX_PRINCIPALS:
                self._buckets.popitem(last=False)
        else:
            refill = (now - bucket.at) * self.per_minute / 60.0
            bucket.level = min(float(self.per_minute), bucket.level + refill)
            bucket.at = now
            self._buckets.move_to_end(principal)
        return bucket

    def charge(self, principal: str, cost: int) -> Charge:
        """Takes ``cost`` from the principal's bucket if it holds that much."""
        if not self.enabled:
            return Charge(granted=True, remaining=None)
        bucket = self._bucket(principal)
        if bucket.level < cost:
            wait = (cost - bucket.level) * 60.0 / self.per_minute
            return Charge(granted=False, remaining=math.floor(bucket.level), retry_after=wait)
        bucket.level -= cost
        return Charge(granted=True, remaining=math.floor(bucket.level))

    def refund(self, principal: str, amount: int) -> int | None:
        """Gives back what was charged but not spent; the level left afterwards."""
        if not self.enabled:
            return None
        bucket = self._bucket(principal)
        bucket.level = min(float(self.per_minute), bucket.level + max(amount, 0))
        return math.floor(bucket.level)
