"""Persistence of managed lists: one document per kind, so intake reads a whole list by id in one command."""

from __future__ import annotations

from collections.abc import Iterable

from domain.lists.defaults import default_list
from domain.lists.models import ListEntry, ListKind, ManagedList
from domain.store import Database, Document, IndexSpec, Session


class ListRepository:
    """Company-wide lists (no row scope: they are vocabulary, not anyone's data).

    A kind never stored reads as its default vocabulary at version 0.
    """

    collection_name = "lists"

    def __init__(self, db: Database) -> None:
        self._collection = db[self.collection_name]

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return []  # read by _id only

    @staticmethod
    def to_document(managed: ManagedList) -> Document:
        return {
            "_id": managed.kind.value,
            "version": managed.version,
            "entries": [
                {
                    "code": e.code,
                    "label": e.label,
                    "active": e.active,
                    "parent": e.parent,
                    "updatedBy": e.updated_by,
                    "updatedAt": e.updated_at,
                }
                for e in managed.entries
            ],
        }

    @staticmethod
    def from_document(document: Document) -> ManagedList:
        return ManagedList(
            kind=ListKind(document["_id"]),
            entries=tuple(
                ListEntry(
                    code=e["code"],
                    label=e["label"],
                    active=bool(e["active"]),
                    parent=e.get("parent"),
                    updated_by=e.get("updatedBy"),
                    updated_at=e.get("updatedAt"),
                )
                for e in document["entries"]
            ),
            version=int(document["version"]),
        )

    async def get(self, kind: ListKind) -> ManagedList:
        """The list of ``kind`` as stored, or its default vocabulary when it never was."""
        document = await self._collection.find_one({"_id": kind.value})
        return self.from_document(document) if document else default_list(kind)

    async def get_many(self, kinds: Iterable[ListKind]) -> dict[ListKind, ManagedList]:
        """The lists of ``kinds``, in one command."""
        wanted = list(dict.fromkeys(kinds))
        found = {
            ListKind(d["_id"]): self.from_document(d)
            async for d in self._collection.find({"_id": {"$in": [k.value for k in wanted]}})
        }
        return {kind: found.get(kind) or default_list(kind) for kind in wanted}

    async def insert(self, managed: ManagedList, *, session: Session | None = None) -> None:
        """Store a list never stored before (a concurrent first store breaks the unique ``_id``)."""
        await self._collection.insert_one(self.to_document(managed), session=session)

    async def replace(self, managed: ManagedList, *, read_version: int) -> bool:
        """Store a changed list unless it changed since it was read at ``read_version``; True when stored."""
        result = await self._collection.replace_one(
            {"_id": managed.kind.value, "version": read_version}, self.to_document(managed)
        )
        return result.matched_count == 1
