"""An employee of the company."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EmployeeRole(StrEnum):
    """The job an employee does, which decides what reaches them."""

    FRONTLINE = "FRONTLINE"
    MANAGER = "MANAGER"
    EXECUTIVE = "EXECUTIVE"


@dataclass(frozen=True, slots=True)
class Employee:
    """A member of staff."""

    id: str
    name: str
    email: str
    role: EmployeeRole
    regions: tuple[str, ...]
    team: str
    manager_id: str | None
