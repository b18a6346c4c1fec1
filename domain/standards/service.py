"""Setting a service standard: checked against its rules, then in force for its region and touchpoint from
the moment it is stored, as a new version."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from domain.errors import Conflict, ValidationFailed
from domain.repositories import Repositories
from domain.standards.models import ServiceStandard, check_standard
from domain.store import DuplicateKey, Session, UnitOfWork


async def set_standard(
    repos: Repositories,
    uow: UnitOfWork,
    *,
    standard: ServiceStandard,
    expected_version: int | None = None,
) -> ServiceStandard:
    """Store ``standard`` as the next version of its region's standard, or raise and store nothing.

    ``ValidationFailed`` when it breaks a rule; ``Conflict`` when ``expected_version`` (the version read, 0
    for a region that has none of its own) is stale. A standard that says what the one in force says already
    (such as a retry of a change that went through) stores nothing and is answered as stored.
    """
    if errors := check_standard(standard):
        raise ValidationFailed(errors)
    stale = Conflict("the standard changed since it was read; reload it")

    async def work(session: Session) -> ServiceStandard:
        current = await repos.standards.own(standard.region, standard.touchpoint, session=session)
        read = current.version if current is not None else 0
        if current is not None and current.same_content(standard):
            return current
        if expected_version is not None and expected_version != read:
            raise Conflict(f"the standard is at version {read}, not {expected_version}; reload it")
        changed = replace(standard, version=read + 1, updated_at=_stored(standard.updated_at))
        if not await repos.standards.save(changed, read_version=read, session=session):
            raise stale
        return changed

    try:
        return await uow.run(work)
    except DuplicateKey:
        # Another first version of the same standard was stored at the same moment.
        raise stale from None


def _stored(moment: datetime | None) -> datetime | None:
    """``moment`` as the database keeps it (milliseconds), so the answer equals what is read back later."""
    return None if moment is None else moment.replace(microsecond=moment.microsecond // 1000 * 1000)
