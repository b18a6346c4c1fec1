"""Root queries over service standards."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.errors import Forbidden
from resolvers.context import Info
from resolvers.standards.types import ServiceStandard

RegionArg = Annotated[str, strawberry.argument(description="One of your regions.")]


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
