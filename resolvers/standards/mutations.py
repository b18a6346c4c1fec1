"""Setting a service standard in one of the caller's regions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.standards.models import ServiceStandard as DomainStandard
from domain.standards.service import set_standard
from resolvers.context import Info
from resolvers.results import (
    ConflictError,
    IdempotencyConflictError,
    NotFoundError,
    ValidationError,
    attempt,
)
from resolvers.standards.queries import own_region
from resolvers.standards.types import ServiceStandard, ServiceStandardInput, ServiceStandardSaved

ServiceStandardResult = Annotated[
    ServiceStandardSaved | ValidationError | NotFoundError | ConflictError | IdempotencyConflictError,
    strawberry.union("ServiceStandardResult", description="The stored standard, or why it was not stored."),
]


@strawberry.type
class StandardMutations:
    @strawberry.mutation(
        description="Set the service standard of a touchpoint in one of your regions: a new version, in "
        "force from now on. Sending what is in force already (a retry) stores nothing."
    )
    async def set_service_standard(
        self,
        info: Info,
        input: Annotated[ServiceStandardInput, strawberry.argument(description="The standard.")],
    ) -> ServiceStandardResult:
        own_region(info, input.region)
        context = info.context
        standard = input.to_domain(by=context.principal.subject, at=context.now)
        outcome = await attempt(
            set_standard(
                context.repos, context.uow, standard=standard, expected_version=input.expected_version
            )
        )
        return (
            ServiceStandardSaved(standard=ServiceStandard.of(outcome))
            if isinstance(outcome, DomainStandard)
            else outcome
        )
