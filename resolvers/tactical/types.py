"""What a tactical alert says about its breach, and a window judged day by day."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from domain.aggregates.rollups import Axis
from domain.alerts import models
from domain.tactical import models as tactical
from resolvers.enums import TargetMetric, Verdict


@strawberry.type(
    description="How much one channel's or segment's cell moved a window's figure the wrong way."
)
class BreachContribution:
    dimension: Axis = strawberry.field(description="CHANNEL or SEGMENT.")
    value: str = strawberry.field(description="The channel or segment.")
    responses: int = strawberry.field(description="Answers to the metric in the cell, in the window.")
    figure: float | None = strawberry.field(description="The cell's own figure in the window.")
    change: float = strawberry.field(
        description="The cell's share of the answers times its figure, now minus in the window before (the "
        "cells of a dimension add up to the figure's change); against the target when the window before had "
        "no answers."
    )

    @classmethod
    def of(cls, contribution: models.Contribution) -> BreachContribution:
        return cls(
            dimension=Axis(contribution.axis),
            value=contribution.value,
            responses=contribution.responses,
            figure=contribution.figure,
            change=contribution.change,
        )


@strawberry.type(description="A touchpoint's figure over a window of days against its standard's target.")
class TacticalBreach:
    metric: TargetMetric = strawberry.field(description="Which figure broke its target.")
    figure: float = strawberry.field(description="The window's figure when the alert was raised.")
    target: float = strawberry.field(description="The target it broke.")
    window_days: int = strawberry.field(description="How many local days the window covers.")
    window_from: date = strawberry.field(description="First day of the window (reporting time zone).")
    window_to: date = strawberry.field(description="Last day of the window, included.")
    responses: int = strawberry.field(description="Answers to the metric in the window.")
    standard_version: int = strawberry.field(
        description="Version of the region's standard it was judged by (0: the company's or the default)."
    )
    worst_cells: list[BreachContribution] = strawberry.field(
        description="The channels and segments that moved the figure most the wrong way, worst first."
    )
    cleared_at: datetime | None = strawberry.field(
        description="When the window had been back within target for a full window."
    )

    @classmethod
    def of(cls, breach: models.TacticalBreach | None) -> TacticalBreach | None:
        if breach is None:
            return None
        return cls(
            metric=breach.metric,
            figure=breach.figure,
            target=breach.target,
            window_days=breach.window_days,
            window_from=breach.window_first,
            window_to=breach.window_last,
            responses=breach.responses,
            standard_version=breach.standard_version,
            worst_cells=[BreachContribution.of(c) for c in breach.worst],
            cleared_at=breach.cleared_at,
        )


@strawberry.type(description="What will be done about a tactical alert, and by when.")
class ActionPlan:
    text: str = strawberry.field(description="The plan.")
    due_at: datetime = strawberry.field(description="When it will be done: the alert's resolve date.")
    at: datetime = strawberry.field(description="When it was set.")
    by: str = strawberry.field(description="Who set it.")

    @classmethod
    def of(cls, plan: models.ActionPlan | None) -> ActionPlan | None:
        return cls(text=plan.text, due_at=plan.due_at, at=plan.at, by=plan.by) if plan else None


@strawberry.type(description="One target on one day's window.")
class WindowTarget:
    metric: TargetMetric = strawberry.field(description="The figure.")
    target: float = strawberry.field(description="Its target in the standard in force that day.")
    figure: float | None = strawberry.field(description="The window's figure; null without answers.")
    responses: int = strawberry.field(description="Answers to the metric in the window.")
    verdict: Verdict = strawberry.field(description="Met, broken, or not judged (too few answers).")

    @classmethod
    def of(cls, day: tactical.TargetDay) -> WindowTarget:
        return cls(
            metric=day.metric,
            target=day.target,
            figure=day.figure,
            responses=day.answers,
            verdict=day.verdict,
        )


@strawberry.type(description="The window ending on one local day, judged by the standard in force then.")
class WindowDay:
    day: date = strawberry.field(description="The window's last day (reporting time zone).")
    window_from: date = strawberry.field(description="The window's first day.")
    responses: int = strawberry.field(description="Responses in the window.")
    standard_version: int = strawberry.field(
        description="Version of the region's standard in force at the day's end (0: company's or default)."
    )
    targets: list[WindowTarget] = strawberry.field(
        description="Each target of that standard; empty when it set no window targets."
    )

    @classmethod
    def of(cls, day: tactical.WindowDay) -> WindowDay:
        return cls(
            day=day.day,
            window_from=day.window_first,
            responses=day.responses,
            standard_version=day.standard_version,
            targets=[WindowTarget.of(t) for t in day.targets],
        )
