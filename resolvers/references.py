"""Following a record's reference to an employee or a customer, through the request's loaders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from resolvers.context import Info
from resolvers.employees.types import Employee
from resolvers.node import Node

if TYPE_CHECKING:
    from resolvers.customers.types import Customer

LazyCustomer = Annotated["Customer", strawberry.lazy("resolvers.customers.types")]


async def employee(info: Info, employee_id: str | None) -> Employee | None:
    """The employee with this id, or None."""
    if employee_id is None:
        return None
    found = await info.context.loaders.employees.load(employee_id)
    return Employee.of(found) if found is not None else None


async def customer(info: Info, customer_id: str | None) -> Customer | None:
    """The customer with this id, or None."""
    from resolvers.customers.types import Customer

    if customer_id is None:
        return None
    found = await info.context.loaders.customers.load(customer_id)
    return Customer.of(found) if found is not None else None


@strawberry.interface(
    description="A record that belongs to one customer (or to none, for anonymous feedback)."
)
class CustomerRecord(Node):
    customer_id: strawberry.Private[str | None]

    @strawberry.field(description="The customer this record belongs to.")
    async def customer(self, info: Info) -> LazyCustomer | None:
        return await customer(info, self.customer_id)
