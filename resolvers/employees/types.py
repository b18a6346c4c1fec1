"""The employee type."""

from __future__ import annotations

import strawberry

from domain.employees.models import Employee as DomainEmployee
from resolvers.enums import EmployeeRole
from resolvers.node import Node


@strawberry.type(description="A member of staff: a customer's owner, a case assignee, an alert recipient.")
class Employee(Node):
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="Work e-mail address.")
    role: EmployeeRole = strawberry.field(description="The job the employee does.")
    regions: list[str] = strawberry.field(description="Regions the employee works in.")
    team: str = strawberry.field(description="Team name.")

    @classmethod
    def of(cls, employee: DomainEmployee) -> Employee:
        return cls(
            record_id=employee.id,
            name=employee.name,
            email=employee.email,
            role=employee.role,
            regions=list(employee.regions),
            team=employee.team,
        )
