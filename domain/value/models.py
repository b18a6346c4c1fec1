"""Observations of what customers did after rating the company, and the figures cells add them up into.

The unit is a **customer-month**: a customer's first response with an NPS in a month of the reporting time
zone, with the NPS category, touchpoint, region and segment of that response. For each window of N days it
records the customer's spend in the N days before the response and in the N days from it (per currency,
refunds netted), whether the customer bought again in those N days, and whether it churned in them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from domain.feedback.scores import DETRACTOR_AT_MOST, PROMOTER_AT_LEAST


class NpsCategory(StrEnum):
    """A customer's category by the NPS it gave."""

    PROMOTER = "PROMOTER"  # 9-10
    PASSIVE = "PASSIVE"  # 7-8
    DETRACTOR = "DETRACTOR"  # 0-6

    @classmethod
    def of(cls, nps: int) -> NpsCategory:
        if nps >= PROMOTER_AT_LEAST:
            return cls.PROMOTER
        return cls.DETRACTOR if nps <= DETRACTOR_AT_MOST else cls.PASSIVE


class ValueWindow(StrEnum):
    """How many days before and after a response its spend, repurchase and churn are counted over."""

    DAYS_30 = "DAYS_30"
    DAYS_90 = "DAYS_90"

    @property
    def days(self) -> int:
        return int(self.value.removeprefix("DAYS_"))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What surrounded one observed response within one window."""

    spend_before: Mapping[str, int]  # minor units per currency, in the N days before the response
    spend_after: Mapping[str, int]  # in the N days from the response on
    repeat: bool  # bought (a positive amount) in the N days from the response on
    churned: bool  # became churned in the N days from the response on


@dataclass(frozen=True, slots=True)
class Observation:
    """A customer's first NPS response of a month in a time zone, and what surrounded it per window."""

    customer_id: str
    zone: str
    month: date
    feedback_at: datetime
    region: str
    segment: str
    touchpoint: str
    category: NpsCategory
    outcomes: Mapping[ValueWindow, Outcome]

    @property
    def key(self) -> str:
        """The observation's identity: one per customer, zone and month."""
        return observation_key(self.customer_id, self.zone, self.month)


def observation_key(customer_id: str, zone: str, month: date) -> str:
    """The identity of a customer's observation of a month in a time zone."""
    return f"{customer_id}|{zone}|{month.isoformat()}"


@dataclass(frozen=True, slots=True)
class CellKey:
    """A cell: a zone, a window, a month and the values of an observation's axes."""

    zone: str
    window: ValueWindow
    month: date
    region: str
    segment: str
    touchpoint: str
    category: NpsCategory


@dataclass(slots=True)
class ValueFigures:
    """Counts and sums of the observations in a cell (or a bucket made of cells)."""

    customers: int = 0
    repeat: int = 0
    churned: int = 0
    spend: dict[str, list[int]] = field(default_factory=dict)  # currency -> [before, after]

    def add(self, other: ValueFigures, sign: int = 1) -> None:
        self.customers += sign * other.customers
        self.repeat += sign * other.repeat
        self.churned += sign * other.churned
        for currency, (before, after) in other.spend.items():
            mine = self.spend.setdefault(currency, [0, 0])
            mine[0] += sign * before
            mine[1] += sign * after

    @classmethod
    def of(cls, outcome: Outcome) -> ValueFigures:
        spend = {
            c: [outcome.spend_before.get(c, 0), outcome.spend_after.get(c, 0)]
            for c in sorted({*outcome.spend_before, *outcome.spend_after})
        }
        return cls(1, int(outcome.repeat), int(outcome.churned), spend)

    def is_empty(self) -> bool:
        return not (self.customers or self.repeat or self.churned or any(any(s) for s in self.spend.values()))

    def comparable(self) -> tuple[object, ...]:
        """What must be equal for two figures to be the same (currencies with nothing left out)."""
        return (
            self.customers,
            self.repeat,
            self.churned,
            sorted((c, tuple(s)) for c, s in self.spend.items() if any(s)),
        )


def cells_of(observation: Observation) -> dict[CellKey, ValueFigures]:
    """The one cell per window an observation counts in, with what it adds there."""
    return {
        CellKey(
            observation.zone,
            window,
            observation.month,
            observation.region,
            observation.segment,
            observation.touchpoint,
            observation.category,
        ): ValueFigures.of(outcome)
        for window, outcome in observation.outcomes.items()
    }
