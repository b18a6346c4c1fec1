"""A window's figures judged against its targets, and the watch kept on a breach until it clears."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from fractions import Fraction

from domain.aggregates.window_counts import WindowCounts
from domain.alerts.models import Alert
from domain.standards.models import Target, TargetMetric


class Verdict(StrEnum):
    """How a window fares against one target."""

    MET = "MET"
    BROKEN = "BROKEN"
    NOT_JUDGED = "NOT_JUDGED"  # fewer answers than the standard's minimum


def answers(counts: WindowCounts, metric: TargetMetric) -> int:
    """How many responses answered what ``metric`` is computed from."""
    if metric is TargetMetric.NPS:
        return counts.nps_answers
    if metric is TargetMetric.CSAT_BOTTOM_BOX_SHARE:
        return counts.csat_answers
    return counts.indexed


def figure(counts: WindowCounts, metric: TargetMetric) -> Fraction | None:
    """The exact figure of ``metric`` over the responses ``counts`` counts (None without answers)."""
    if metric is TargetMetric.NPS:
        return counts.net_promoter_score
    if metric is TargetMetric.CSAT_BOTTOM_BOX_SHARE:
        return counts.csat_bottom_box_share
    return counts.satisfaction_index


@dataclass(frozen=True, slots=True)
class Judgement:
    """One target against one window's figure."""

    target: Target
    figure: Fraction | None
    answers: int
    verdict: Verdict


def judge(target: Target, counts: WindowCounts, *, min_responses: int) -> Judgement:
    """The verdict on ``target`` of a window whose responses are counted in ``counts``."""
    answered = answers(counts, target.metric)
    value = figure(counts, target.metric)
    if value is None or answered < min_responses:
        return Judgement(target, value, answered, Verdict.NOT_JUDGED)
    return Judgement(target, value, answered, Verdict.BROKEN if target.broken_by(value) else Verdict.MET)


@dataclass(frozen=True, slots=True)
class BreachKey:
    """What one breach is of: a metric of a touchpoint in a region. At most one is open per key."""

    region: str
    touchpoint: str
    metric: TargetMetric

    @property
    def id(self) -> str:
        return f"{self.region}|{self.touchpoint}|{self.metric.value}"


@dataclass(frozen=True, slots=True)
class BreachWatch:
    """An open breach: the tactical alert it raised, since when, and since when it is back within target."""

    key: BreachKey
    alert_id: str
    since: datetime
    recovering_since: datetime | None = None


@dataclass(slots=True)
class CheckOutcome:
    """What one check did: the tactical alerts it raised and those it cleared."""

    raised: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TargetDay:
    """How one target fared on one day's window."""

    metric: TargetMetric
    target: float
    figure: float | None
    answers: int
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class WindowDay:
    """The window ending on one local day, judged by the standard in force at the day's end."""

    day: date
    window_first: date
    responses: int
    standard_version: int  # of the region's standard then (0: the company's or the default)
    targets: tuple[TargetDay, ...]  # empty when that standard had no window targets
