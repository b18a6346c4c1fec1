"""The service standard type, its targets over a window, its versions, and its input."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from domain.standards.models import AlertRule, StandardChange, WindowTargets
from domain.standards.models import ServiceStandard as DomainStandard
from resolvers.enums import Touchpoint


@strawberry.type(description="Targets a touchpoint's figures must keep over a rolling window of days.")
class StandardWindow:
    window_days: int = strawberry.field(description="The last this many local days, today included (1-90).")
    min_responses: int = strawberry.field(description="A window with fewer responses is not judged.")
    nps_at_least: float | None = strawberry.field(description="NPS target: at least this (-100 to 100).")
    csat_bottom_box_share_at_most: float | None = strawberry.field(
        description="Share of CSAT answers of 1: at most this (0 to 1)."
    )
    satisfaction_index_at_least: float | None = strawberry.field(
        description="Mean satisfaction index: at least this (1 means expectations met)."
    )

    @classmethod
    def of(cls, window: WindowTargets | None) -> StandardWindow | None:
        if window is None:
            return None
        return cls(
            window_days=window.window_days,
            min_responses=window.min_responses,
            nps_at_least=window.nps_at_least,
            csat_bottom_box_share_at_most=window.csat_bottom_box_share_at_most,
            satisfaction_index_at_least=window.satisfaction_index_at_least,
        )


@strawberry.type(
    description="When a response raises an alert, how fast alerts must be handled, and the window targets."
)
class ServiceStandard:
    region: str = strawberry.field(description="The region it applies in.")
    touchpoint: Touchpoint = strawberry.field(description="The touchpoint it applies to.")
    nps_at_most: int = strawberry.field(description="An NPS score at or below this raises an alert.")
    csat_at_most: int = strawberry.field(description="A CSAT score at or below this raises an alert.")
    satisfaction_index_below: float = strawberry.field(
        description="A satisfaction index below this raises one."
    )
    acknowledge_within_minutes: int = strawberry.field(description="Time to acknowledge an alert.")
    resolve_within_minutes: int = strawberry.field(description="Time to resolve an alert.")
    target_csat: float = strawberry.field(description="Target mean CSAT.")
    target_nps: int = strawberry.field(description="Target NPS.")
    window: StandardWindow | None = strawberry.field(
        description="Targets over a rolling window that raise tactical alerts; null: none."
    )
    is_default: bool = strawberry.field(description="True when nobody set it and the defaults apply.")
    version: int = strawberry.field(
        description="Version of the region's own standard; 0 when the company's or the default applies."
    )
    updated_at: datetime | None = strawberry.field(description="When it was set: it is in force from then.")
    updated_by: str | None = strawberry.field(description="Who set it (the subject of their token).")

    @classmethod
    def of(cls, standard: DomainStandard) -> ServiceStandard:
        return cls(
            region=standard.region,
            touchpoint=standard.touchpoint,
            nps_at_most=standard.rule.nps_at_most,
            csat_at_most=standard.rule.csat_at_most,
            satisfaction_index_below=standard.rule.satisfaction_index_below,
            acknowledge_within_minutes=int(standard.acknowledge_within.total_seconds() // 60),
            resolve_within_minutes=int(standard.resolve_within.total_seconds() // 60),
            target_csat=standard.target_csat,
            target_nps=standard.target_nps,
            window=StandardWindow.of(standard.window),
            is_default=standard.is_default,
            version=standard.version,
            updated_at=standard.updated_at,
            updated_by=standard.updated_by,
        )


@strawberry.type(description="One version of a region's standard: who set it, when, and what it replaced.")
class ServiceStandardChange:
    version: int = strawberry.field(description="The version this change created.")
    at: datetime = strawberry.field(description="When it was set: in force from then on.")
    by: str | None = strawberry.field(description="Who set it.")
    before: ServiceStandard | None = strawberry.field(
        description="The region's version it replaced; null for its first (the company's or the default "
        "applied before)."
    )
    after: ServiceStandard = strawberry.field(description="The standard as set.")

    @classmethod
    def of(cls, change: StandardChange) -> ServiceStandardChange:
        return cls(
            version=change.version,
            at=change.at,
            by=change.by,
            before=ServiceStandard.of(change.before) if change.before is not None else None,
            after=ServiceStandard.of(change.after),
        )


@strawberry.input(description="Targets over a rolling window; set at least one of the three targets.")
class StandardWindowInput:
    window_days: int = strawberry.field(description="The last this many local days, today included (1-90).")
    min_responses: int = strawberry.field(
        description="A window with fewer responses is not judged (1-100000)."
    )
    nps_at_least: float | None = strawberry.field(
        default=None, description="NPS target: at least this (-100 to 100)."
    )
    csat_bottom_box_share_at_most: float | None = strawberry.field(
        default=None, description="Share of CSAT answers of 1: at most this (0 to 1)."
    )
    satisfaction_index_at_least: float | None = strawberry.field(
        default=None, description="Mean satisfaction index: at least this (0 to 2)."
    )

    def to_domain(self) -> WindowTargets:
        return WindowTargets(
            window_days=self.window_days,
            min_responses=self.min_responses,
            nps_at_least=self.nps_at_least,
            csat_bottom_box_share_at_most=self.csat_bottom_box_share_at_most,
            satisfaction_index_at_least=self.satisfaction_index_at_least,
        )


@strawberry.input(description="A service standard for one touchpoint in one of your regions.")
class ServiceStandardInput:
    region: str = strawberry.field(description="One of your regions.")
    touchpoint: Touchpoint = strawberry.field(description="The touchpoint.")
    nps_at_most: int = strawberry.field(description="An NPS score at or below this raises an alert (0-10).")
    csat_at_most: int = strawberry.field(description="A CSAT score at or below this raises an alert (1-5).")
    satisfaction_index_below: float = strawberry.field(description="An index below this raises an alert.")
    acknowledge_within_minutes: int = strawberry.field(description="Time to acknowledge, in minutes.")
    resolve_within_minutes: int = strawberry.field(description="Time to resolve, in minutes.")
    target_csat: float = strawberry.field(description="Target mean CSAT (1-5).")
    target_nps: int = strawberry.field(description="Target NPS (-100 to 100).")
    window: StandardWindowInput | None = strawberry.field(
        default=None, description="Targets over a rolling window that raise tactical alerts; null: none."
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="The version you read (0: the region had none of its own); a stale one is a CONFLICT. "
        "Without it the change applies over whatever is stored.",
    )

    def to_domain(self, *, by: str, at: datetime) -> DomainStandard:
        return DomainStandard(
            region=self.region,
            touchpoint=self.touchpoint,
            rule=AlertRule(self.nps_at_most, self.csat_at_most, self.satisfaction_index_below),
            acknowledge_within=timedelta(minutes=self.acknowledge_within_minutes),
            resolve_within=timedelta(minutes=self.resolve_within_minutes),
            target_csat=self.target_csat,
            target_nps=self.target_nps,
            updated_by=by,
            updated_at=at,
            window=self.window.to_domain() if self.window is not None else None,
        )


@strawberry.type(description="The standard as stored.")
class ServiceStandardSaved:
    standard: ServiceStandard = strawberry.field(description="The standard now in force.")
