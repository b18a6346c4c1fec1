"""Maintaining managed lists: saving one entry under optimistic concurrency, and the default vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from domain.errors import Conflict, ValidationFailed
from domain.lists.defaults import default_entries
from domain.lists.models import PARENT_KINDS, ListEntry, ListKind, ManagedList, check_entry
from domain.repositories import Repositories
from domain.store import DuplicateKey, Session, UnitOfWork

# Start-up in several processes at once may race on the same list; each attempt rereads it.
DEFAULT_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class EntryChange:
    """A new entry, or the new content of an existing one, as a manager sends it."""

    kind: ListKind
    code: str
    label: str
    active: bool
    expected_version: int
    parent: str | None = None


async def save_entry(
    repos: Repositories, uow: UnitOfWork, *, change: EntryChange, by: str, now: datetime
) -> ManagedList:
    """Add or change one entry of a list read at ``expected_version``; the list as stored afterwards.

    A change that leaves the entry as it already is (such as a retry of a save that went through) writes
    nothing and answers the list as it is, whatever version it names; any other change to a list changed
    since it was read is a conflict.
    """
    entry = ListEntry(change.code, change.label.strip(), change.active, change.parent, by, stored_time(now))
    current = await repos.lists.get(change.kind)
    parent_kind = PARENT_KINDS.get(change.kind)
    parents = await repos.lists.get(parent_kind) if parent_kind else None
    if errors := check_entry(entry, parents=parents):
        raise ValidationFailed(errors)
    existing = current.entry(entry.code)
    if existing is not None and existing.same_content(entry):
        return current
    if change.expected_version != current.version:
        raise Conflict(
            f"the {change.kind.value} list is at version {current.version}, "
            f"not {change.expected_version}; reload it"
        )
    updated = replace(current.with_entry(entry), version=current.version + 1)
    await store_list(repos, uow, updated, read_version=current.version)
    return updated


def stored_time(moment: datetime) -> datetime:
    """``moment`` as the database keeps it (milliseconds), so an answer equals what is read back later."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


async def store_list(
    repos: Repositories, uow: UnitOfWork, managed: ManagedList, *, read_version: int
) -> None:
    """Store ``managed`` over the list read at ``read_version``; ``Conflict`` when it changed since."""
    stale = Conflict(f"the {managed.kind.value} list changed since it was read; reload it")
    if read_version == 0:
        # A transaction of one insert: the unit of work reports a concurrent first store as DuplicateKey.

        async def first(session: Session) -> None:
            await repos.lists.insert(managed, session=session)

        try:
            await uow.run(first)
        except DuplicateKey:
            raise stale from None
    elif not await repos.lists.replace(managed, read_version=read_version):
        raise stale


async def ensure_default_lists(repos: Repositories, uow: UnitOfWork, *, now: datetime) -> None:
    """Store every list with the default entries it lacks; entries it has, retired ones too, stay as they are.

    Idempotent, and safe to run from several processes at once.
    """
    for kind in ListKind:
        for _ in range(DEFAULT_ATTEMPTS):
            current = await repos.lists.get(kind)
            stored = current.entries if current.version else ()
            have = {entry.code for entry in stored}
            missing = tuple(e for e in default_entries(kind, at=stored_time(now)) if e.code not in have)
            if current.version and not missing:
                break
            updated = ManagedList(kind, (*stored, *missing), current.version + 1)
            try:
                await store_list(repos, uow, updated, read_version=current.version)
            except Conflict:
                continue
            break
        else:
            raise Conflict(f"the {kind.value} list kept changing while its defaults were stored")
