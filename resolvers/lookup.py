"""Any record by its GraphQL type name and id: what ``node`` and federation's ``_entities`` load.

Reads go through the request's loaders, whose repositories are limited to the caller's rows, so a record
outside them is None exactly like a missing one; the types' guards then mask, hide and audit as anywhere.
"""

from __future__ import annotations

from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.crm.types import Case, Interaction, Opportunity, Transaction
from resolvers.customers.types import Customer
from resolvers.employees.types import Employee
from resolvers.feedback.types import Feedback
from resolvers.node import Node
from resolvers.record_kinds import RECORD_KINDS

# Every object type with a global id: what ``load_node`` can load.
NODE_TYPES: tuple[type[Node], ...] = (
    Customer,
    Employee,
    Transaction,
    Interaction,
    Case,
    Feedback,
    Opportunity,
    Alert,
)


async def load_node(info: Info, type_name: str, record_id: str) -> Node | None:
    """The record of type ``type_name`` with id ``record_id`` if the caller may read it, else None."""
    loaders = info.context.loaders
    if type_name == "Customer":
        customer = await loaders.customers.load(record_id)
        return Customer.of(customer) if customer is not None else None
    if type_name == "Employee":
        employee = await loaders.employees.load(record_id)
        return Employee.of(employee) if employee is not None else None
    for spec in RECORD_KINDS.values():
        if spec.type_name == type_name:
            record = await spec.loaders(loaders).by_id.load(record_id)
            view: Node | None = spec.view(record) if record is not None else None
            return view
    return None
