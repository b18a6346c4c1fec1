"""Setting a service standard: checked against its rules, then in force for its region and touchpoint."""

from __future__ import annotations

from domain.errors import ValidationFailed
from domain.repositories import Repositories
from domain.standards.models import ServiceStandard, check_standard


async def set_standard(repos: Repositories, *, standard: ServiceStandard) -> ServiceStandard:
    """Store ``standard`` for its region and touchpoint, or raise ``ValidationFailed`` and store nothing."""
    if errors := check_standard(standard):
        raise ValidationFailed(errors)
    await repos.standards.save(standard)
    return standard
