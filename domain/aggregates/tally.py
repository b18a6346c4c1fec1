"""Counts per score value: what a rollup cell keeps, and what merging cells gives.

Scores are small integers, so a histogram per score keeps every response's information that NPS, means,
shares and percentiles need: figures computed from merged tallies are exactly those of the raw responses.
Satisfaction indices are ratios of small integers, kept as integers scaled by a common denominator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm

from domain.feedback.models import Feedback
from domain.feedback.scores import CSAT_SCORES, EFFORT_SCORES, ITEM_SCORES, NPS_SCORES
from domain.feedback.submission import MAX_ITEMS

# Every expectation (1-7) divides RATIO_SCALE, and every item count (1-MAX_ITEMS) divides INDEX_SCALE / it,
# so a perception/expectation ratio and a response's mean ratio are integers at these scales.
RATIO_SCALE = lcm(*ITEM_SCORES)
INDEX_SCALE = RATIO_SCALE * lcm(*range(1, MAX_ITEMS + 1))
# A cell keeps up to this many distinct customers: enough to tell any privacy threshold up to it.
CUSTOMERS_KEPT = 25


def merge_customers(mine: set[str], theirs: set[str]) -> set[str]:
    """The union of two kept customer sets, capped: past CUSTOMERS_KEPT only "at least that many" matters."""
    merged = mine | theirs
    if len(merged) > CUSTOMERS_KEPT:
        # A bounded, deterministic sample, whichever order the sets were merged in.
        return set(sorted(merged)[:CUSTOMERS_KEPT])
    return merged


def kept(customers: set[str]) -> frozenset[str] | None:
    """The distinct customers when fewer than CUSTOMERS_KEPT; None means at least that many.

    Two tallies of the same responses agree on this, whichever sample of customers each one kept.
    """
    return frozenset(customers) if len(customers) < CUSTOMERS_KEPT else None


@dataclass(slots=True)
class DimensionTally:
    """One service dimension: responses rating it, gaps and ratios (at RATIO_SCALE) summed, who rated it."""

    responses: int = 0
    gap_sum: int = 0
    ratio_sum: int = 0
    customers: set[str] = field(default_factory=set)

    def add(self, other: DimensionTally) -> None:
        self.responses += other.responses
        self.gap_sum += other.gap_sum
        self.ratio_sum += other.ratio_sum
        self.customers = merge_customers(self.customers, other.customers)

    def kept_customers(self) -> frozenset[str] | None:
        """Who rated it: the distinct customers below CUSTOMERS_KEPT, None for at least that many."""
        return kept(self.customers)


@dataclass(slots=True)
class Tally:
    """Mergeable counts of a set of responses."""

    responses: int = 0
    nps: list[int] = field(default_factory=lambda: [0] * len(NPS_SCORES))
    csat: list[int] = field(default_factory=lambda: [0] * len(CSAT_SCORES))
    effort: list[int] = field(default_factory=lambda: [0] * len(EFFORT_SCORES))
    indexed: int = 0  # responses with items, so with a satisfaction index
    index_sum: int = 0  # sum of their indices at INDEX_SCALE
    dimensions: dict[str, DimensionTally] = field(default_factory=dict)
    # Distinct identified customers, complete while fewer than CUSTOMERS_KEPT, else a sample of that many.
    customers: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, feedback: Feedback) -> Tally:
        """The tally of one response."""
        tally = cls(responses=1)
        if feedback.nps is not None:
            tally.nps[feedback.nps - NPS_SCORES.start] = 1
        if feedback.csat is not None:
            tally.csat[feedback.csat - CSAT_SCORES.start] = 1
        if feedback.effort is not None:
            tally.effort[feedback.effort - EFFORT_SCORES.start] = 1
        if feedback.items:
            tally.indexed = 1
            ratios = [item.perception * (RATIO_SCALE // item.expectation) for item in feedback.items]
            tally.index_sum = sum(ratios) * (INDEX_SCALE // RATIO_SCALE) // len(feedback.items)
            who = {feedback.customer_id} if feedback.customer_id is not None else set()
            for item, scaled in zip(feedback.items, ratios, strict=True):
                tally.dimensions[item.dimension] = DimensionTally(1, item.gap, scaled, set(who))
        if feedback.customer_id is not None:
            tally.customers.add(feedback.customer_id)
        return tally

    def add(self, other: Tally) -> None:
        """Count ``other``'s responses in too."""
        self.responses += other.responses
        for mine, theirs in ((self.nps, other.nps), (self.csat, other.csat), (self.effort, other.effort)):
            for n, count in enumerate(theirs):
                mine[n] += count
        self.indexed += other.indexed
        self.index_sum += other.index_sum
        for name, dimension in other.dimensions.items():
            self.dimensions.setdefault(name, DimensionTally()).add(dimension)
        self.customers = merge_customers(self.customers, other.customers)

    def keeps_enough(self, minimum: int) -> bool:
        """Whether at least ``minimum`` distinct customers responded (``minimum`` up to CUSTOMERS_KEPT)."""
        return len(self.customers) >= minimum

    def kept_customers(self) -> frozenset[str] | None:
        """The distinct customers below CUSTOMERS_KEPT; None means at least that many."""
        return kept(self.customers)

    @property
    def satisfaction_index(self) -> Fraction | None:
        return Fraction(self.index_sum, INDEX_SCALE * self.indexed) if self.indexed else None
