"""Root queries about access: ``viewer``, ``me``, ``customerByExternalId`` and ``auditTrail``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.customers.models import ExternalId
from domain.errors import NotFound
from domain.paging import Position
from resolvers.access.types import AuditEntry, AuditEntryConnection, Viewer
from resolvers.context import Info
from resolvers.customers.types import Customer
from resolvers.node import encode_global_id, expect_global_id
from resolvers.pagination import build_edges, page_size
from resolvers.records import AfterArg, FirstArg

AUDIT_CURSOR = "AuditEntry"

SystemArg = Annotated[str, strawberry.argument(description="The other system, e.g. crm, shop or billing.")]
ExternalIdArg = Annotated[str, strawberry.argument(description="The customer's id in that system.")]
CustomerIdArg = Annotated[strawberry.ID, strawberry.argument(description="Global id of the customer.")]


@strawberry.type
class AccessQueries:
    @strawberry.field(description="Who the caller is, and every operation and field it may use, as enforced.")
    def viewer(self, info: Info) -> Viewer:
        principal = info.context.principal
        return Viewer.of(principal, info.schema.role_views[principal.role])  # type: ignore[attr-defined]

    @strawberry.field(description="The calling customer's own profile (customer role).")
    async def me(self, info: Info) -> Customer | None:
        found = await info.context.loaders.customers.load(info.context.principal.subject)
        return Customer.of(found) if found is not None else None

    @strawberry.field(
        description="A customer by its id in another system, for reconciliation (integration role)."
    )
    async def customer_by_external_id(
        self, info: Info, system: SystemArg, id: ExternalIdArg
    ) -> Customer | None:
        found = await info.context.repos.customers.by_external_id(ExternalId(system, id))
        return Customer.of(found) if found is not None else None

    @strawberry.field(
        description="Who read a customer's unmasked personal data, newest first (manager role)."
    )
    async def audit_trail(
        self, info: Info, customer_id: CustomerIdArg, first: FirstArg, after: AfterArg = None
    ) -> AuditEntryConnection:
        limit = page_size(first, info.context.settings.max_page_size)
        record_id = expect_global_id(customer_id, "Customer")
        # Only customers in the caller's scope have a readable trail; others look missing.
        if await info.context.loaders.customers.load(record_id) is None:
            raise NotFound("no such customer", field="customerId")
        position = Position.from_cursor(AUDIT_CURSOR, after) if after is not None else None
        page = await info.context.repos.audit.for_customer(record_id, first=limit, after=position)
        customer_global_id = encode_global_id("Customer", record_id)
        edges, page_info = build_edges(
            page,
            lambda entry: AuditEntry.of(entry, customer_global_id),
            lambda entry: Position(entry.at, entry.id).cursor(AUDIT_CURSOR),
        )
        return AuditEntryConnection(edges=edges, page_info=page_info)
