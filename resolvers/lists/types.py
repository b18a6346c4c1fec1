"""The managed list type, its entries, and the input that saves one entry."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.lists import models
from domain.lists.service import EntryChange
from resolvers.enums import ListKind


@strawberry.type(description="One value of a managed list: a stable code and what screens show for it.")
class ListEntry:
    code: str = strawberry.field(description="The stable code records and inputs carry.")
    label: str = strawberry.field(description="What screens show.")
    active: bool = strawberry.field(
        description="False once retired: records keep it, intake refuses it from then on."
    )
    parent: str | None = strawberry.field(
        description="The code of its parent entry, for kinds shaped as a tree."
    )
    updated_by: str | None = strawberry.field(
        description="Who last changed it (null: the default vocabulary)."
    )
    updated_at: datetime | None = strawberry.field(description="When it was last changed or created.")

    @classmethod
    def of(cls, entry: models.ListEntry) -> ListEntry:
        return cls(
            code=entry.code,
            label=entry.label,
            active=entry.active,
            parent=entry.parent,
            updated_by=entry.updated_by,
            updated_at=entry.updated_at,
        )


@strawberry.type(
    description="A company-wide vocabulary managers maintain; intake accepts its active codes only."
)
class ManagedList:
    kind: ListKind = strawberry.field(description="Which vocabulary.")
    version: int = strawberry.field(description="Pass it back as expectedVersion with a change.")
    entries: list[ListEntry] = strawberry.field(
        description="Every entry, retired ones included, in list order."
    )

    @classmethod
    def of(cls, managed: models.ManagedList) -> ManagedList:
        return cls(
            kind=managed.kind, version=managed.version, entries=[ListEntry.of(e) for e in managed.entries]
        )


@strawberry.input(description="One entry to add to a list, or the new content of an existing entry.")
class ListEntryInput:
    kind: ListKind = strawberry.field(description="Which list.")
    code: str = strawberry.field(
        description="1-40 characters: lowercase letters, digits, '-' and '_', starting with a letter or "
        "digit. An existing code changes that entry; codes are never removed."
    )
    label: str = strawberry.field(description="What screens show, 1-80 characters.")
    active: bool = strawberry.field(description="False retires the entry: intake refuses it from then on.")
    expected_version: int = strawberry.field(
        description="The list's version you read; a change to a list changed since is a conflict."
    )
    parent: str | None = strawberry.field(
        default=None, description="The parent entry's code, for kinds shaped as a tree; none for the others."
    )

    def to_domain(self) -> EntryChange:
        return EntryChange(
            kind=self.kind,
            code=self.code,
            label=self.label,
            active=self.active,
            expected_version=self.expected_version,
            parent=self.parent,
        )


@strawberry.type(description="The list as stored after the change.")
class ListEntrySaved:
    list: ManagedList = strawberry.field(description="The whole list, with its new version.")
