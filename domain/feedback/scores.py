"""The score scales of a response, and the Net Promoter Score.

NPS asks how likely the customer is to recommend the company, 0 to 10: promoters answer 9 or 10, detractors
0 to 6, passives 7 or 8. The NPS of a set of responses is the share of promoters minus the share of
detractors, in points from -100 to 100. CSAT is 1 to 5, customer effort 1 to 7, and each service dimension
of a response is rated 1 to 7 for expectation and for perception.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

NPS_SCORES = range(0, 11)
CSAT_SCORES = range(1, 6)
EFFORT_SCORES = range(1, 8)
ITEM_SCORES = range(1, 8)  # expectation and perception of a service dimension

PROMOTER_AT_LEAST = 9
DETRACTOR_AT_MOST = 6


def promoters(nps_counts: Sequence[int]) -> int:
    """How many promoters a histogram of NPS answers (responses per score 0-10) holds."""
    return sum(nps_counts[PROMOTER_AT_LEAST - NPS_SCORES.start :])


def detractors(nps_counts: Sequence[int]) -> int:
    """How many detractors a histogram of NPS answers (responses per score 0-10) holds."""
    return sum(nps_counts[: DETRACTOR_AT_MOST - NPS_SCORES.start + 1])


def net_promoter_score(nps_counts: Sequence[int]) -> Fraction | None:
    """Share of promoters minus share of detractors, in points (-100 to 100); None without answers."""
    answered = sum(nps_counts)
    if not answered:
        return None
    return Fraction(100 * (promoters(nps_counts) - detractors(nps_counts)), answered)
