"""Root query over managed lists."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.context import Info
from resolvers.enums import ListKind
from resolvers.lists.types import ManagedList

KindArg = Annotated[ListKind, strawberry.argument(description="Which list.")]


@strawberry.type
class ListQueries:
    @strawberry.field(
        description="A managed list: the codes forms offer (its active entries) and the labels of the codes "
        "records carry."
    )
    async def managed_list(self, info: Info, kind: KindArg) -> ManagedList:
        return ManagedList.of(await info.context.repos.lists.get(kind))
