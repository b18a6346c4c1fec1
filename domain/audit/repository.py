"""Persistence of audit entries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from domain.audit.models import AuditEntry
from domain.paging import Page, Position, keyset_page
from domain.store import Database, Document, IndexSpec, only_already_stored


class AuditRepository:
    """Audit entries, read newest first per customer."""

    collection_name = "audit"

    def __init__(self, db: Database) -> None:
        self._collection = db[self.collection_name]

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        return [IndexSpec(cls.collection_name, (("customerId", 1), ("at", -1), ("_id", -1)))]

    @staticmethod
    def to_document(entry: AuditEntry) -> Document:
        return {
            "_id": entry.id,
            "subject": entry.subject,
            "role": entry.role,
            "customerId": entry.customer_id,
            "fields": list(entry.fields),
            "operation": entry.operation,
            "requestId": entry.request_id,
            "at": entry.at,
        }

    @staticmethod
    def from_document(document: Document) -> AuditEntry:
        return AuditEntry(
            id=document["_id"],
            subject=document["subject"],
            role=document["role"],
            customer_id=document["customerId"],
            fields=tuple(document["fields"]),
            operation=document.get("operation"),
            request_id=document["requestId"],
            at=document["at"],
        )

    async def append(self, entries: Iterable[AuditEntry]) -> None:
        """Store entries in one write, which is safe to retry: entries already stored count as stored."""
        documents = [self.to_document(e) for e in entries]
        if not documents:
            return
        try:
            await self._collection.insert_many(documents, ordered=False)
        except Exception as error:
            if not only_already_stored(error):
                raise

    async def for_customer(self, customer_id: str, *, first: int, after: Position | None) -> Page[AuditEntry]:
        """A customer's entries, newest first."""
        position = (after.at, after.id) if after is not None else None
        query = {"customerId": customer_id}
        pipeline = keyset_page(query, "at", limit=first + 1, after=position, descending=True)
        documents: Sequence[Document] = await (await self._collection.aggregate(pipeline)).to_list(None)
        return Page([self.from_document(d) for d in documents[:first]], has_next=len(documents) > first)
