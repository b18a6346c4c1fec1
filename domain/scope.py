"""Row scope: which customers, and which of their records, a caller may read at all.

Repositories add the scope's filter to every read, so no query path can forget it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# The stored kind of a tactical alert (``domain.alerts.models.AlertKind.TACTICAL``).
TACTICAL = "TACTICAL"
# The field of an alert that holds the keys an employee's scope finds it by (``alert_scope_keys``).
SCOPE_KEYS = "scopeKeys"
# The version of those keys' form: alerts stored with another are given the current keys at start-up.
SCOPE_KEYS_VERSION = 1


def alert_scope_keys(*, region: str, tactical: bool, assignee_id: str | None) -> list[str]:
    """The keys an alert is found by in an employee's scope: its region's (operational and tactical alerts
    apart, as frontline staff see only the former), and its assignee's."""
    keys = [_region_key(region, tactical=tactical)]
    if assignee_id is not None:
        keys.append(_assignee_key(assignee_id))
    return keys


def _region_key(region: str, *, tactical: bool) -> str:
    return f"{'tactical' if tactical else 'region'}:{region}"


def _assignee_key(employee_id: str) -> str:
    return f"employee:{employee_id}"


@dataclass(frozen=True, slots=True)
class RowScope:
    """Everything, nothing, the customers of some regions, or one customer."""

    regions: tuple[str, ...] | None = None
    customer_id: str | None = None
    nothing: bool = False
    # An employee also sees the alerts assigned to them, whatever their region.
    employee_id: str | None = None
    # Whether the tactical alerts of the regions are in scope (they go to managers), besides assigned ones.
    tactical_alerts: bool = True

    @classmethod
    def everything(cls) -> RowScope:
        return cls()

    @classmethod
    def none(cls) -> RowScope:
        return cls(nothing=True)

    @classmethod
    def of_regions(
        cls, regions: tuple[str, ...], *, employee_id: str | None = None, tactical_alerts: bool = True
    ) -> RowScope:
        return cls(regions=regions, employee_id=employee_id, tactical_alerts=tactical_alerts)

    @classmethod
    def of_customer(cls, customer_id: str) -> RowScope:
        return cls(customer_id=customer_id)

    def customer_filter(self) -> dict[str, Any]:
        """The filter that keeps the customers in scope."""
        return self._filter("_id")

    def record_filter(self) -> dict[str, Any]:
        """The filter that keeps the per-customer records (and feedback) in scope."""
        return self._filter("customerId")

    def alert_filter(self) -> dict[str, Any]:
        """The filter that keeps the alerts in scope: the records' scope, or assigned to the employee.

        An employee's regions are matched through the keys each alert stores (``alert_scope_keys``), not as
        "in the regions, or assigned to me": the embedded database reads a whole collection for any filter
        with an ``$or`` (beside a customer id too), which every alert an employee read then cost."""
        records = self.record_filter()
        if not self.tactical_alerts and not self.nothing:
            records = {**records, "kind": {"$ne": TACTICAL}}
        if self.employee_id is None or not records or self.nothing:
            return records
        if self.regions is not None and self.customer_id is None:
            keys = [_region_key(region, tactical=False) for region in self.regions]
            if self.tactical_alerts:
                keys += [_region_key(region, tactical=True) for region in self.regions]
            return {SCOPE_KEYS: {"$in": [*keys, _assignee_key(self.employee_id)]}}
        return {"$or": [records, {"assigneeId": self.employee_id}]}

    def admits(
        self, *, region: str, customer_id: str | None, assignee_id: str | None = None, tactical: bool = False
    ) -> bool:
        """Whether a record with these keys is in scope (the same rule as the filters, for pushed events)."""
        if self.nothing:
            return False
        if self.employee_id is not None and assignee_id == self.employee_id:
            return True
        if tactical and not self.tactical_alerts:
            return False
        if self.regions is not None and region not in self.regions:
            return False
        return self.customer_id is None or customer_id == self.customer_id

    def _filter(self, customer_field: str) -> dict[str, Any]:
        if self.nothing:
            return {"_id": {"$in": []}}
        clauses: dict[str, Any] = {}
        if self.regions is not None:
            clauses["region"] = {"$in": list(self.regions)}
        if self.customer_id is not None:
            clauses[customer_field] = self.customer_id
        return clauses


def narrowed(query: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """``query`` restricted to ``scope``: merged field by field, a field both name by values (one, or
    ``$in``) kept to the values both allow; anything else both name goes under ``$and``.

    Scope fields hold one value per document (a region, a customer id), so a value allowed by both is exactly
    what both conditions admit. Merging matters beyond tidiness: the embedded database reads a whole
    collection for a filter with a top-level ``$and``, and every read of a customer's own records named
    ``customerId`` twice."""
    if not scope:
        return query
    merged = dict(query)
    rest: dict[str, Any] = {}
    for field, allowed in scope.items():
        if field not in merged:
            merged[field] = allowed
        elif (both := _common_values(merged[field], allowed)) is not None:
            merged[field] = {"$in": both}
        else:
            rest[field] = allowed
    return {"$and": [merged, rest]} if rest else merged


def _common_values(condition: Any, other: Any) -> list[str] | None:
    """The values two conditions on a single-valued field both allow; None unless both list their values."""
    mine, theirs = _values(condition), _values(other)
    if mine is None or theirs is None:
        return None
    return [value for value in mine if value in theirs]


def _values(condition: Any) -> list[str] | None:
    """The strings an equality or an ``$in`` allows (ids and regions are strings); None for any other
    condition, or for values Python's equality may not compare as the database does (patterns, numbers)."""
    values = condition["$in"] if isinstance(condition, dict) and condition.keys() == {"$in"} else [condition]
    return list(values) if all(isinstance(value, str) for value in values) else None


def any_of(**values: Sequence[str]) -> dict[str, Any]:
    """A filter keeping documents whose field is one of the given values; fields given no values are free."""
    return {field: {"$in": list(allowed)} for field, allowed in values.items() if allowed}
