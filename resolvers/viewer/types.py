"""The viewer type: who the caller is, and how each field it can reach is shown."""

from __future__ import annotations

import strawberry

from auth.policy import RoleView
from auth.principal import Principal
from resolvers.enums import Access, Role


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
