"""Reading one field of an import row, with a reason the operator can act on when it is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypeVar

from domain.ids import is_valid_id
from domain.money import Money

E = TypeVar("E", bound=StrEnum)
Row = Mapping[str, object]


class RowError(ValueError):
    """The row cannot be imported; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(row: Row, name: str, *, required: bool = True, max_length: int = 500) -> str | None:
    value = row.get(name)
    if _blank(value):
        if required:
            raise RowError(f"{name}: required")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RowError(f"{name}: must be text")
    result = str(value).strip()
    if len(result) > max_length:
        raise RowError(f"{name}: longer than {max_length} characters")
    return result


def required_text(row: Row, name: str, *, max_length: int = 500) -> str:
    value = text(row, name, max_length=max_length)
    assert value is not None
    return value


def texts(row: Row, name: str) -> tuple[str, ...]:
    """A list: a JSON array of strings, or text with items separated by ``;``."""
    value = row.get(name)
    if _blank(value):
        return ()
    items = value.split(";") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise RowError(f"{name}: must be a list of text")
    return tuple(i.strip() for i in items if i.strip())


def choice(row: Row, name: str, kind: type[E], default: E | None = None) -> E:
    value = row.get(name)
    if _blank(value):
        if default is None:
            raise RowError(f"{name}: required")
        return default
    try:
        return kind(str(value).strip().upper())
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise RowError(f"{name}: {value!r} is not one of {allowed}") from None


def flag(row: Row, name: str) -> bool:
    value = row.get(name)
    if _blank(value):
        return False
    if isinstance(value, bool):
        return value
    normalised = str(value).strip().lower()
    if normalised in ("true", "yes", "1"):
        return True
    if normalised in ("false", "no", "0"):
        return False
    raise RowError(f"{name}: {value!r} is not true or false")


def day(row: Row, name: str) -> date | None:
    value = row.get(name)
    if _blank(value):
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise RowError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def moment(row: Row, name: str) -> datetime:
    value = text(row, name)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise RowError(f"{name}: {value!r} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        raise RowError(f"{name}: {value!r} needs a time zone (e.g. Z or +01:00)")
    return parsed


def money(row: Row, amount: str, currency: str, *, default_currency: str | None = None) -> Money:
    value = row.get(amount)
    code = text(row, currency, required=default_currency is None) or default_currency
    assert code is not None
    if len(code) != 3 or not code.isalpha():
        raise RowError(f"{currency}: {code!r} is not a three-letter currency code")
    return Money(minor_units(value, amount), code.upper())


def minor_units(value: object, name: str) -> int:
    if _blank(value) or isinstance(value, bool):
        raise RowError(f"{name}: required")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise RowError(f"{name}: {value!r} is not a number") from None
    if not number.is_finite() or number != number.quantize(Decimal("0.01")):
        raise RowError(f"{name}: {value!r} has more than two decimals")
    return int(number.scaleb(2))


def record_id(row: Row, name: str) -> str | None:
    value = text(row, name, required=False)
    if value is not None and not is_valid_id(value):
        raise RowError(f"{name}: {value!r} is not a record id")
    return value


def no_operators(row: Row) -> None:
    """Keys beginning with ``$`` are MongoDB operators: such a row is refused before it goes anywhere."""
    pending: list[object] = [row]
    while pending:
        item = pending.pop()
        if isinstance(item, Mapping):
            for key, inner in item.items():
                if isinstance(key, str) and key.startswith("$"):
                    raise RowError(f"{key}: keys beginning with '$' are not accepted")
                pending.append(inner)
        elif isinstance(item, list):
            pending.extend(item)


def only_fields(row: Row, allowed: frozenset[str]) -> None:
    unknown = sorted(k for k in row if k not in allowed)
    if unknown:
        raise RowError(f"{unknown[0]}: unknown field")
