"""Small value types shared by several record types."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Any

import strawberry

from domain.money import Money as DomainMoney


@strawberry.type(description="An amount of money.")
class Money:
    amount: Decimal = strawberry.field(description="The amount in the currency's major unit, e.g. 12.50.")
    amount_minor: int = strawberry.field(description="The amount in minor units (cents), exact.")
    currency: str = strawberry.field(description="ISO 4217 currency code.")

    @classmethod
    def of(cls, money: DomainMoney) -> Money:
        return cls(amount=money.amount, amount_minor=money.amount_minor, currency=money.currency)


# Each field read straight from a stored amount (``domain.documents.money_from``), as ``Money.of`` holds it:
# pages completed from the pipeline's documents read them (``resolvers/pipeline/completion.py``).
MONEY_READERS: dict[str, Callable[[DomainMoney], Any]] = {
    "amount": attrgetter("amount"),
    "amountMinor": attrgetter("amount_minor"),
    "currency": attrgetter("currency"),
}
