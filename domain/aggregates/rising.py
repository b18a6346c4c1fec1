"""Whether a count rose significantly against its baseline: an exact conditional test of two Poisson rates.

Given ``k`` occurrences in the current period (of ``d`` days) and ``b`` in the baseline (the periods before,
``e`` days together), and that the cause occurs at one constant rate under the null hypothesis, the current
count given the total ``n = k + b`` is Binomial(n, d / (d + e)). The one-sided p-value is P(X >= k) under it.
A cause is flagged as rising when that p-value is below ``RISING_LEVEL`` and it occurred at least
``RISING_MINIMUM`` times in the current period (so that a handful of occurrences of a rare cause is not news).
"""

from __future__ import annotations

import math

RISING_LEVEL = 0.01
RISING_MINIMUM = 5


def rise_p_value(current: int, baseline: int, current_days: int, baseline_days: int) -> float:
    """P(X >= current) for X ~ Binomial(current + baseline, current_days / (current_days + baseline_days))."""
    if current <= 0:
        return 1.0
    if baseline_days <= 0:
        return 1.0  # nothing to compare with
    n = current + baseline
    p = current_days / (current_days + baseline_days)
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [_log_term(n, k, log_p, log_q) for k in range(current, n + 1)]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def _log_term(n: int, k: int, log_p: float, log_q: float) -> float:
    log_comb = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    return log_comb + k * log_p + (n - k) * log_q


def is_rising(current: int, baseline: int, current_days: int, baseline_days: int) -> bool:
    """Whether ``current`` rose significantly against ``baseline`` (see the module's test)."""
    if current < RISING_MINIMUM:
        return False
    return rise_p_value(current, baseline, current_days, baseline_days) < RISING_LEVEL
