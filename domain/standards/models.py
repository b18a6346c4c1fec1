"""A service standard and the company default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import FieldError
from domain.feedback.models import Touchpoint

# A standard with no region is the company default for its touchpoint.
COMPANY = ""


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A response breaks the rule when any score is at or past its threshold."""

    nps_at_most: int = 3
    csat_at_most: int = 1
    satisfaction_index_below: float = 0.6


@dataclass(frozen=True, slots=True)
class ServiceStandard:
    """Alert rule, handling times and targets for one touchpoint in one region (or company-wide)."""

    region: str
    touchpoint: Touchpoint
    rule: AlertRule
    acknowledge_within: timedelta
    resolve_within: timedelta
    target_csat: float
    target_nps: int
    updated_by: str | None = None
    updated_at: datetime | None = None

    @property
    def is_default(self) -> bool:
        return self.updated_at is None


def default_standard(region: str, touchpoint: Touchpoint) -> ServiceStandard:
    """The standard when nobody set one: NPS 3 or less, CSAT 1, index below 0.6; 4 hours, 2 days."""
    return ServiceStandard(
        region=region,
        touchpoint=touchpoint,
        rule=AlertRule(),
        acknowledge_within=timedelta(hours=4),
        resolve_within=timedelta(days=2),
        target_csat=4.2,
        target_nps=30,
    )


def check_standard(standard: ServiceStandard) -> list[FieldError]:
    """The rules a standard must keep to be usable."""
    errors: list[FieldError] = []
    rule = standard.rule
    if not 0 <= rule.nps_at_most <= 10:
        errors.append(FieldError("rule.npsAtMost", "OUT_OF_RANGE", "must be between 0 and 10"))
    if not 1 <= rule.csat_at_most <= 5:
        errors.append(FieldError("rule.csatAtMost", "OUT_OF_RANGE", "must be between 1 and 5"))
    if not 0 < rule.satisfaction_index_below <= 2:
        errors.append(
            FieldError("rule.satisfactionIndexBelow", "OUT_OF_RANGE", "must be above 0 and at most 2")
        )
    if not timedelta(minutes=1) <= standard.acknowledge_within <= timedelta(days=30):
        errors.append(FieldError("acknowledgeWithinMinutes", "OUT_OF_RANGE", "must be 1 minute to 30 days"))
    if not standard.acknowledge_within <= standard.resolve_within <= timedelta(days=90):
        errors.append(
            FieldError(
                "resolveWithinMinutes",
                "OUT_OF_RANGE",
                "must be at least the acknowledge time, at most 90 days",
            )
        )
    if not 1 <= standard.target_csat <= 5:
        errors.append(FieldError("targetCsat", "OUT_OF_RANGE", "must be between 1 and 5"))
    if not -100 <= standard.target_nps <= 100:
        errors.append(FieldError("targetNps", "OUT_OF_RANGE", "must be between -100 and 100"))
    return errors
