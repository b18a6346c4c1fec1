"""The ``auditTrail`` query (managers)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.errors import NotFound
from domain.paging import Position
from resolvers.audit.types import AuditEntry, AuditEntryConnection
from resolvers.context import Info
from resolvers.node import encode_global_id, expect_global_id
from resolvers.pagination import AfterArg, FirstArg, build_edges, page_size

AUDIT_CURSOR = "AuditEntry"

CustomerIdArg = Annotated[strawberry.ID, strawberry.argument(description="Global id of the customer.")]


@strawberry.type
class AuditQueries:
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
