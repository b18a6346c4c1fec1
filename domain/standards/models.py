"""A service standard, its targets over a rolling window, its versions, and the company default."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from fractions import Fraction

from domain.errors import FieldError
from domain.feedback.models import Touchpoint

# A standard with no region is the company default for its touchpoint.
COMPANY = ""
MAX_WINDOW_DAYS = 90


@dataclass(frozen=True, slots=True)
class AlertRule:
    """A response breaks the rule when any score is at or past its threshold."""

    nps_at_most: int = 3
    csat_at_most: int = 1
    satisfaction_index_below: float = 0.6


class TargetMetric(StrEnum):
    """A figure of a touchpoint over a window of days that a standard can set a target for."""

    NPS = "NPS"  # at least the target, in points (-100 to 100)
    CSAT_BOTTOM_BOX_SHARE = "CSAT_BOTTOM_BOX_SHARE"  # at most the target, a share of CSAT answers (0 to 1)
    SATISFACTION_INDEX = "SATISFACTION_INDEX"  # at least the target (1 means expectations met)

    @property
    def at_most(self) -> bool:
        """Whether the figure must stay at or below its target (else at or above it)."""
        return self is TargetMetric.CSAT_BOTTOM_BOX_SHARE


@dataclass(frozen=True, slots=True)
class Target:
    """One metric's bound: a figure past it breaks the target."""

    metric: TargetMetric
    bound: float

    def broken_by(self, figure: Fraction) -> bool:
        """Whether the exact ``figure`` is on the wrong side of the bound (the bound itself keeps it)."""
        bound = Fraction(self.bound)
        return figure > bound if self.metric.at_most else figure < bound


@dataclass(frozen=True, slots=True)
class WindowTargets:
    """Targets a touchpoint's figures must keep over the last ``window_days`` local days (today included).

    A window with fewer than ``min_responses`` responses is not judged. A metric without a target is not
    judged either.
    """

    window_days: int = 28
    min_responses: int = 30
    nps_at_least: float | None = None
    csat_bottom_box_share_at_most: float | None = None
    satisfaction_index_at_least: float | None = None

    def targets(self) -> tuple[Target, ...]:
        """The metrics this window has a target for, in metric order."""
        bounds = {
            TargetMetric.NPS: self.nps_at_least,
            TargetMetric.CSAT_BOTTOM_BOX_SHARE: self.csat_bottom_box_share_at_most,
            TargetMetric.SATISFACTION_INDEX: self.satisfaction_index_at_least,
        }
        return tuple(Target(metric, bound) for metric, bound in bounds.items() if bound is not None)

    def target(self, metric: TargetMetric) -> Target | None:
        return next((t for t in self.targets() if t.metric is metric), None)


@dataclass(frozen=True, slots=True)
class ServiceStandard:
    """Alert rule, handling times and targets for one touchpoint in one region (or company-wide).

    ``version`` counts the changes of this region's own standard (0: never set here, so the company's or
    the default applies); a change is in force from ``updated_at`` on.
    """

    region: str
    touchpoint: Touchpoint
    rule: AlertRule
    acknowledge_within: timedelta
    resolve_within: timedelta
    target_csat: float
    target_nps: int
    updated_by: str | None = None
    updated_at: datetime | None = None
    window: WindowTargets | None = None
    version: int = 0

    @property
    def is_default(self) -> bool:
        return self.updated_at is None

    def same_content(self, other: ServiceStandard) -> bool:
        """Whether both set the same rule, times and targets, whoever set them and when."""
        return _content(self) == _content(other)


def _content(standard: ServiceStandard) -> tuple[object, ...]:
    return (
        standard.region,
        standard.touchpoint,
        standard.rule,
        standard.acknowledge_within,
        standard.resolve_within,
        standard.target_csat,
        standard.target_nps,
        standard.window,
    )


@dataclass(frozen=True, slots=True)
class StandardChange:
    """One version of a region's standard: who set it and when, what it replaced and what it says."""

    version: int
    at: datetime
    by: str | None
    before: ServiceStandard | None  # None: the region had no standard of its own before
    after: ServiceStandard


def default_standard(region: str, touchpoint: Touchpoint) -> ServiceStandard:
    """The standard when nobody set one: NPS 3 or less, CSAT 1, index below 0.6; 4 h, 2 days; no window."""
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
    if standard.window is not None:
        errors += check_window(standard.window)
    return errors


def check_window(window: WindowTargets) -> list[FieldError]:
    """The rules targets over a window must keep."""
    errors: list[FieldError] = []
    if not 1 <= window.window_days <= MAX_WINDOW_DAYS:
        errors.append(
            FieldError("window.windowDays", "OUT_OF_RANGE", f"must be between 1 and {MAX_WINDOW_DAYS}")
        )
    if not 1 <= window.min_responses <= 100_000:
        errors.append(FieldError("window.minResponses", "OUT_OF_RANGE", "must be between 1 and 100000"))
    bounds = (
        ("window.npsAtLeast", window.nps_at_least, -100, 100),
        ("window.csatBottomBoxShareAtMost", window.csat_bottom_box_share_at_most, 0, 1),
        ("window.satisfactionIndexAtLeast", window.satisfaction_index_at_least, 0, 2),
    )
    for field, value, lowest, highest in bounds:
        if value is not None and not lowest <= value <= highest:
            errors.append(FieldError(field, "OUT_OF_RANGE", f"must be between {lowest} and {highest}"))
    if not window.targets():
        errors.append(FieldError("window", "REQUIRED", "set at least one target, or no window at all"))
    return errors
