"""Service standards per region and touchpoint: reading them and setting them (managers of the region)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry

from domain.errors import Forbidden, ValidationFailed
from domain.standards.models import AlertRule, check_standard
from domain.standards.models import ServiceStandard as DomainStandard
from resolvers.context import Info
from resolvers.enums import Touchpoint
from resolvers.results import (
    ConflictError,
    IdempotencyConflictError,
    NotFoundError,
    ValidationError,
    attempt,
)


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


@strawberry.type(description="The standard as stored.")
class ServiceStandardSaved:
    standard: ServiceStandard = strawberry.field(description="The standard now in force.")


ServiceStandardResult = Annotated[
    ServiceStandardSaved | ValidationError | NotFoundError | ConflictError | IdempotencyConflictError,
    strawberry.union("ServiceStandardResult", description="The stored standard, or why it was not stored."),
]

RegionArg = Annotated[str, strawberry.argument(description="One of your regions.")]


def _own_region(info: Info, region: str) -> None:
    if not info.context.scope.admits(region=region, customer_id=None):
        raise Forbidden(f"{region!r} is not one of your regions")


@strawberry.type
class StandardQueries:
    @strawberry.field(
        description="The service standard of every touchpoint as it applies in one of your regions."
    )
    async def service_standards(self, info: Info, region: RegionArg) -> list[ServiceStandard]:
        _own_region(info, region)
        return [ServiceStandard.of(s) for s in await info.context.repos.standards.for_region(region)]


async def _save(info: Info, input: ServiceStandardInput) -> DomainStandard:
    standard = DomainStandard(
        region=input.region,
        touchpoint=input.touchpoint,
        rule=AlertRule(input.nps_at_most, input.csat_at_most, input.satisfaction_index_below),
        acknowledge_within=timedelta(minutes=input.acknowledge_within_minutes),
        resolve_within=timedelta(minutes=input.resolve_within_minutes),
        target_csat=input.target_csat,
        target_nps=input.target_nps,
        updated_by=info.context.principal.subject,
        updated_at=info.context.now,
    )
    if errors := check_standard(standard):
        raise ValidationFailed(errors)
    await info.context.repos.standards.save(standard)
    return standard


@strawberry.type
class StandardMutations:
    @strawberry.mutation(description="Set the service standard of a touchpoint in one of your regions.")
    async def set_service_standard(
        self,
        info: Info,
        input: Annotated[ServiceStandardInput, strawberry.argument(description="The standard.")],
    ) -> ServiceStandardResult:
        _own_region(info, input.region)
        outcome = await attempt(_save(info, input))
        return (
            ServiceStandardSaved(standard=ServiceStandard.of(outcome))
            if isinstance(outcome, DomainStandard)
            else outcome
        )
