"""The rising test: flags a generated series with a known rise and not a flat one; it is the exact tail."""

from __future__ import annotations

import random
from fractions import Fraction
from math import comb

import pytest

from domain.aggregates.rising import RISING_LEVEL, is_rising, rise_p_value

PERIOD = 7


def poisson(rng: random.Random, rate: float) -> int:
    """A Poisson draw (Knuth's method; rates here are small)."""
    limit, count, product = pow(2.718281828459045, -rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def exact_tail(k: int, n: int, p: Fraction) -> Fraction:
    return sum((comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)), Fraction(0))


@pytest.mark.parametrize(
    ("k", "b", "d", "e"), [(5, 0, 7, 28), (12, 20, 7, 28), (3, 40, 30, 120), (30, 60, 31, 122)]
)
def test_the_p_value_is_the_exact_binomial_tail(k: int, b: int, d: int, e: int) -> None:
    assert rise_p_value(k, b, d, e) == pytest.approx(
        float(exact_tail(k, k + b, Fraction(d, d + e))), rel=1e-9
    )


def test_a_generated_series_with_a_known_rise_is_flagged_and_a_flat_one_is_not() -> None:
    rng = random.Random(14)  # noqa: S311 - a fixed series, not a secret
    flagged_rises = flagged_flat = 0
    series = 200
    for _ in range(series):
        baseline = sum(poisson(rng, 6.0) for _ in range(4))
        flagged_rises += is_rising(poisson(rng, 24.0), baseline, PERIOD, 4 * PERIOD)
        flagged_flat += is_rising(
            poisson(rng, 6.0), sum(poisson(rng, 6.0) for _ in range(4)), PERIOD, 4 * PERIOD
        )
    # A quadrupled rate is caught almost always; a constant one is flagged about as often as the level allows.
    assert flagged_rises >= 0.95 * series
    assert flagged_flat <= 2 * RISING_LEVEL * series
    # The same counts every period are never news, and neither are fewer occurrences than the minimum.
    assert not is_rising(6, 24, PERIOD, 4 * PERIOD)
    assert not is_rising(4, 0, PERIOD, 4 * PERIOD)
    assert is_rising(5, 0, PERIOD, 4 * PERIOD)
