"""The service standard type, and its input."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from domain.standards.models import AlertRule
from domain.standards.models import ServiceStandard as DomainStandard
from resolvers.enums import Touchpoint


@strawberry.type(description="When a response raises an alert, and how fast alerts must be handled.")
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
    is_default: bool = strawberry.field(description="True when nobody set it and the defaults apply.")
    updated_at: datetime | None = strawberry.field(description="When it was last set.")

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
            is_default=standard.is_default,
            updated_at=standard.updated_at,
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
        )


@strawberry.type(description="The standard as stored.")
class ServiceStandardSaved:
    standard: ServiceStandard = strawberry.field(description="The standard now in force.")
