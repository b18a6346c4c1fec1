"""Conversions shared by the document mappers: money, calendar dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.money import Money


def money_doc(money: Money) -> dict[str, Any]:
    return {"amountMinor": money.amount_minor, "currency": money.currency}


def money_from(document: dict[str, Any]) -> Money:
    return Money(int(document["amountMinor"]), str(document["currency"]))


def date_doc(value: date | None) -> str | None:
    """Calendar dates are stored as ISO strings: BSON has no date-only type and these sort correctly."""
    return value.isoformat() if value else None


def date_from(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
