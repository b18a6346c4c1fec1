"""How personal data is shown to roles that may see that it exists but not what it is."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

_DIGITS = re.compile(r"\d")


def mask_email(email: str) -> str:
    """``jane.doe@example.com`` becomes ``j***@example.com``."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}***{at}{domain}" if at else "***"


def mask_phone(phone: str) -> str:
    """``+44 20 7946 0123`` becomes ``+44 *** *** 123``: country code and last three digits stay."""
    digits = _DIGITS.findall(phone)
    if len(digits) < 6:
        return "***"
    country = phone.split()[0] if phone.startswith("+") and " " in phone else ""
    return f"{country + ' ' if country else ''}*** *** {''.join(digits[-3:])}"


def mask_emails(emails: list[str]) -> list[str]:
    return [mask_email(e) for e in emails]


def mask_phones(phones: list[str]) -> list[str]:
    return [mask_phone(p) for p in phones]


def without_street(address: Any) -> Any:
    """The address with its street removed; city, postal code and country stay."""
    return None if address is None else dataclasses.replace(address, street=None)
