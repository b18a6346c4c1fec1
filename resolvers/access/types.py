"""The viewer and audit entry types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from auth.policy import RoleView
from auth.principal import Principal
from domain.audit.models import AuditEntry as DomainAuditEntry
from resolvers.enums import Access, Role
from resolvers.pagination import Connection


@strawberry.type(description="How one field is shown to the caller.")
class FieldAccess:
    name: str = strawberry.field(description="Field name.")
    access: Access = strawberry.field(description="Full, masked, hidden (null) or denied (FORBIDDEN).")


@strawberry.type(description="A type the caller can reach, and how each of its fields is shown.")
class TypeAccess:
    name: str = strawberry.field(description="Type name.")
    fields: list[FieldAccess] = strawberry.field(description="Every field of the type.")


@strawberry.type(description="Who the caller is and what it may do, as enforced.")
class Viewer:
    subject: str = strawberry.field(description="The token's subject: an employee, customer or system id.")
    role: Role = strawberry.field(description="The token's role.")
    regions: list[str] = strawberry.field(description="Regions the caller works in (frontline, manager).")
    operations: list[str] = strawberry.field(description="Root operations the caller may call.")
    types: list[TypeAccess] = strawberry.field(description="Types the caller can reach, with field access.")

    @classmethod
    def of(cls, principal: Principal, view: RoleView) -> Viewer:
        return cls(
            subject=principal.subject,
            role=principal.role,
            regions=list(principal.regions),
            operations=list(view.operations),
            types=[
                TypeAccess(name=t, fields=[FieldAccess(name=f, access=a) for f, a in fields.items()])
                for t, fields in view.types.items()
            ],
        )


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
