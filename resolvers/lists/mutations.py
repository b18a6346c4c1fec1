"""Adding or changing one entry of a managed list."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.lists.models import ManagedList as DomainList
from domain.lists.service import save_entry
from resolvers.context import Info
from resolvers.lists.types import ListEntryInput, ListEntrySaved, ManagedList
from resolvers.results import ConflictError, ValidationError, attempt

SaveListEntryResult = Annotated[
    ListEntrySaved | ValidationError | ConflictError,
    strawberry.union(
        "SaveListEntryResult", description="The list as stored, or why the entry was not saved."
    ),
]


@strawberry.type
class ListMutations:
    @strawberry.mutation(
        description="Add an entry to a managed list, or change or retire one; an identical retry changes "
        "nothing."
    )
    async def save_list_entry(
        self, info: Info, input: Annotated[ListEntryInput, strawberry.argument(description="The entry.")]
    ) -> SaveListEntryResult:
        context = info.context
        work = save_entry(
            context.repos,
            context.uow,
            change=input.to_domain(),
            by=context.principal.subject,
            now=context.now,
        )
        outcome = await attempt(work)
        if isinstance(outcome, DomainList):
            return ListEntrySaved(list=ManagedList.of(outcome))
        assert isinstance(outcome, ValidationError | ConflictError), outcome  # save_entry refuses only so
        return outcome
