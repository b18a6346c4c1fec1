"""What customer-level aggregates (revenue at risk, churn) are grouped by."""

from __future__ import annotations

from enum import StrEnum


class CustomerAxis(StrEnum):
    """A customer's region or segment."""

    REGION = "region"
    SEGMENT = "segment"
