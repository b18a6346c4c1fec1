"""Writes the personal-data reads of one operation to the audit trail, in one write after execution."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from domain.ids import new_id
from resolvers.context import Context

logger = logging.getLogger("customer360.audit")


class AuditWriter(SchemaExtension):
    """After execution, stores one entry per customer whose unmasked personal data the response holds."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context):
            return
        entries = context.audit.drain(
            subject=context.principal.subject,
            role=context.principal.role.value,
            operation=self.execution_context.operation_name,
            request_id=context.request_id,
            at=context.now,
            new_id=new_id,
        )
        await context.repos.audit.append(entries)
