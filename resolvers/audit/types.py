"""The audit entry type, and its connection."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.audit.models import AuditEntry as DomainAuditEntry
from resolvers.pagination import Connection


@strawberry.type(description="One request's reads of one customer's unmasked personal data.")
class AuditEntry:
    subject: str = strawberry.field(description="Who read the data.")
    role: str = strawberry.field(description="The role they read it as.")
    customer_id: strawberry.ID = strawberry.field(
        description="Global id of the customer whose data was read."
    )
    fields: list[str] = strawberry.field(description="The personal fields shown in full.")
    operation: str | None = strawberry.field(description="Name of the GraphQL operation.")
    request_id: str = strawberry.field(description="Request id, as in the logs.")
    at: datetime = strawberry.field(description="When.")

    @classmethod
    def of(cls, entry: DomainAuditEntry, customer_global_id: strawberry.ID) -> AuditEntry:
        return cls(
            subject=entry.subject,
            role=entry.role,
            customer_id=customer_global_id,
            fields=list(entry.fields),
            operation=entry.operation,
            request_id=entry.request_id,
            at=entry.at,
        )


@strawberry.type(description="A page of audit entries, newest first.")
class AuditEntryConnection(Connection[AuditEntry]):
    pass
