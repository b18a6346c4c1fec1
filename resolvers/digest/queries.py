"""The digest of a day, for the caller's scope."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from domain.digest.service import digest
from resolvers.context import Info
from resolvers.digest.types import Digest


@strawberry.type
class DigestQueries:
    @strawberry.field(
        description="A day of the loop in your regions (and the alerts assigned to you): its new alerts, "
        "tactical breaches, rising root causes and what was resolved with which cause."
    )
    async def digest(
        self,
        info: Info,
        date_: Annotated[
            date | None,
            strawberry.argument(
                name="date",
                description="A local day of the reporting time zone that has ended; by default yesterday.",
            ),
        ] = None,
    ) -> Digest:
        context = info.context
        made = await digest(context.repos, day=date_, now=context.now)
        return Digest.of(made, list(context.principal.regions))
