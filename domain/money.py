"""Amounts of money, kept as integer minor units so sums are exact."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents) of an ISO 4217 currency with two decimals."""

    amount_minor: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_minor).scaleb(-2)
