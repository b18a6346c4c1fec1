"""Root queries over service standards: in force now, and their versions."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.errors import Forbidden, InvalidInput
from resolvers.context import Info
from resolvers.enums import Touchpoint
from resolvers.standards.types import ServiceStandard, ServiceStandardChange

RegionArg = Annotated[str, strawberry.argument(description="One of your regions.")]
MAX_CHANGES = 100


def own_region(info: Info, region: str) -> None:
    """Standards are read and set only for the caller's own regions."""
    if not info.context.row_scope.admits(region=region, customer_id=None):
        raise Forbidden(f"{region!r} is not one of your regions")


@strawberry.type
class StandardQueries:
    @strawberry.field(
        description="The service standard of every touchpoint as it applies in one of your regions."
    )
    async def service_standards(self, info: Info, region: RegionArg) -> list[ServiceStandard]:
        own_region(info, region)
        return [ServiceStandard.of(s) for s in await info.context.repos.standards.for_region(region)]

    @strawberry.field(
        description="The versions of a touchpoint's standard in one of your regions, newest first: who set "
        "each, when, what it replaced and what it says."
    )
    async def service_standard_history(
        self,
        info: Info,
        region: RegionArg,
        touchpoint: Annotated[Touchpoint, strawberry.argument(description="The touchpoint.")],
        first: Annotated[int, strawberry.argument(description="How many versions (1-100).")] = 20,
    ) -> list[ServiceStandardChange]:
        own_region(info, region)
        if not 1 <= first <= MAX_CHANGES:
            raise InvalidInput(f"first must be between 1 and {MAX_CHANGES}", field="first")
        changes = await info.context.repos.standards.changes(region, touchpoint, first=first)
        return [ServiceStandardChange.of(c) for c in changes]
