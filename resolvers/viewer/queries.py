"""The ``viewer`` query."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.viewer.types import Viewer


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="Who the caller is, and every operation and field it may use, as enforced.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer.of(principal, info.schema.role_views[principal.role])  # type: ignore[attr-defined]
