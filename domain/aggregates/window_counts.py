"""The counts a touchpoint's window is judged on, per region, touchpoint and day.

A service standard's window targets (NPS, CSAT bottom-box share, satisfaction index over the last N days) need
eight counts per day, not a cell's histograms, service dimensions and customers. Kept this small, a month of
them fits in the month's rollup document (see ``domain/aggregates/repository.py``), so a window reads a few
documents however many responses its days hold. Counts add up exactly, as tallies do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction

from domain.aggregates.tally import INDEX_SCALE, Tally
from domain.feedback.scores import detractors, promoters


@dataclass(slots=True)
class WindowCounts:
    """Mergeable counts of a set of responses, as far as window targets need them."""

    responses: int = 0
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0
    csat_answers: int = 0
    csat_bottom: int = 0  # answers with the lowest CSAT score
    indexed: int = 0  # responses with items, so with a satisfaction index
    index_sum: int = 0  # sum of their indices at INDEX_SCALE

    @classmethod
    def of(cls, tally: Tally) -> WindowCounts:
        return cls(
            responses=tally.responses,
            nps_answers=sum(tally.nps),
            promoters=promoters(tally.nps),
            detractors=detractors(tally.nps),
            csat_answers=sum(tally.csat),
            csat_bottom=tally.csat[0],
            indexed=tally.indexed,
            index_sum=tally.index_sum,
        )

    def add(self, other: WindowCounts) -> None:
        """Count ``other``'s responses in too. Field by field, not by a loop over ``NAMES``: every check runs
        this once per window day of every touchpoint."""
        self.responses += other.responses
        self.nps_answers += other.nps_answers
        self.promoters += other.promoters
        self.detractors += other.detractors
        self.csat_answers += other.csat_answers
        self.csat_bottom += other.csat_bottom
        self.indexed += other.indexed
        self.index_sum += other.index_sum

    def subtract(self, other: WindowCounts) -> None:
        """Take ``other``'s responses out (``other`` counted among these): a difference of running totals."""
        self.responses -= other.responses
        self.nps_answers -= other.nps_answers
        self.promoters -= other.promoters
        self.detractors -= other.detractors
        self.csat_answers -= other.csat_answers
        self.csat_bottom -= other.csat_bottom
        self.indexed -= other.indexed
        self.index_sum -= other.index_sum

    def as_dict(self) -> dict[str, int]:
        """Every count by its name (zeros too)."""
        return {name: getattr(self, name) for name in NAMES}

    @property
    def net_promoter_score(self) -> Fraction | None:
        """In points (-100 to 100), as ``domain.feedback.scores.net_promoter_score`` computes it."""
        if not self.nps_answers:
            return None
        return Fraction(100 * (self.promoters - self.detractors), self.nps_answers)

    @property
    def csat_bottom_box_share(self) -> Fraction | None:
        return Fraction(self.csat_bottom, self.csat_answers) if self.csat_answers else None

    @property
    def satisfaction_index(self) -> Fraction | None:
        return Fraction(self.index_sum, INDEX_SCALE * self.indexed) if self.indexed else None


NAMES = tuple(f.name for f in fields(WindowCounts))
