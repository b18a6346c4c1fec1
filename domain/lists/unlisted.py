"""Values in stored records that are no code of their managed list (free text from before the lists), and
adopting them: the value becomes an entry (or maps onto the entry its code already names) and the records
carry the code from then on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from domain.lists.models import MAX_LABEL, PARENT_KINDS, ListEntry, ListKind, code_for
from domain.lists.service import store_list, stored_time
from domain.repositories import Repositories
from domain.store import UnitOfWork


@dataclass(frozen=True, slots=True)
class Usage:
    """Where records carry the codes of one list: how to count each value, and how to rename one."""

    where: str  # e.g. "feedback items"
    noun: str  # what ``count`` counts, e.g. "responses"
    count: Callable[[], Awaitable[dict[str, int]]]
    rename: Callable[[str, str], Awaitable[int]]


def usages(repos: Repositories) -> dict[ListKind, Usage]:
    """Every list kind's use in records."""
    return {
        ListKind.SERVICE_DIMENSION: Usage(
            "feedback items", "responses", repos.feedback.dimension_counts, repos.feedback.rename_dimension
        ),
        ListKind.CASE_CATEGORY: Usage(
            "case categories", "cases", repos.cases.category_counts, repos.cases.recategorize
        ),
        ListKind.ROOT_CAUSE: Usage(
            "root causes", "alerts and cases", _cause_counts(repos), _rename_cause(repos)
        ),
    }


def _cause_counts(repos: Repositories) -> Callable[[], Awaitable[dict[str, int]]]:
    async def count() -> dict[str, int]:
        counts = await repos.alerts.cause_counts()
        for code, n in (await repos.cases.cause_counts()).items():
            counts[code] = counts.get(code, 0) + n
        return counts

    return count


def _rename_cause(repos: Repositories) -> Callable[[str, str], Awaitable[int]]:
    async def rename(old: str, new: str) -> int:
        return await repos.alerts.rename_cause(old, new) + await repos.cases.rename_cause(old, new)

    return rename


@dataclass(frozen=True, slots=True)
class Unlisted:
    """A value records carry that is no code of its list, how many records carry it, and its derived code."""

    kind: ListKind
    value: str
    records: int
    code: str | None  # None: nothing usable as a code (fix those records by hand)


async def find_unlisted(repos: Repositories) -> list[Unlisted]:
    """Every unlisted value of every list, most frequent first within a kind (one scan per use)."""
    lists = await repos.lists.get_many(ListKind)
    found = []
    for kind, usage in usages(repos).items():
        counts = await usage.count()
        unlisted = [(value, n) for value, n in counts.items() if not lists[kind].is_listed(value)]
        for value, n in sorted(unlisted, key=lambda pair: (-pair[1], str(pair[0]))):
            found.append(Unlisted(kind, value, n, code_for(value) if isinstance(value, str) else None))
    return found


@dataclass
class Adoption:
    """What adopting unlisted values did: entries added, records renamed, values left as they were."""

    added: list[tuple[ListKind, ListEntry]] = field(default_factory=list)
    renamed: list[tuple[Unlisted, int]] = field(default_factory=list)  # how many records now carry the code
    left: list[tuple[Unlisted, str]] = field(default_factory=list)  # and why

    def renamed_any(self, kind: ListKind) -> bool:
        """Whether records of ``kind``'s use changed."""
        return any(unlisted.kind is kind and n for unlisted, n in self.renamed)


def _label(value: str, code: str) -> str:
    label = value.strip()
    return label if 1 <= len(label) <= MAX_LABEL and label.isprintable() else code


async def adopt(
    repos: Repositories, uow: UnitOfWork, found: list[Unlisted], *, by: str, now: datetime
) -> Adoption:
    """Make ``found`` listed: each value's code becomes an active entry (labelled with the value) unless the
    list has that code already (a retired entry stays retired), then the records carrying the value get
    the code.

    Run again after an interruption: what is listed by then is left alone. Raises ``Conflict`` when a list
    changes meanwhile (nothing of that kind's records was renamed then).
    """
    adoption = Adoption()
    every_use = usages(repos)
    for kind in ListKind:
        mine = [u for u in found if u.kind is kind]
        if not mine:
            continue
        current = await repos.lists.get(kind)
        updated = current
        adoptable = []
        for unlisted in mine:
            if unlisted.code is None:
                adoption.left.append((unlisted, "no code can be made of it"))
            elif kind in PARENT_KINDS:
                adoption.left.append(
                    (unlisted, "entries of this list need a parent: add it with saveListEntry")
                )
            else:
                adoptable.append((unlisted, unlisted.code))
                if not updated.is_listed(unlisted.code):
                    label = _label(unlisted.value, unlisted.code)
                    entry = ListEntry(unlisted.code, label, True, None, by, stored_time(now))
                    updated = updated.with_entry(entry)
                    adoption.added.append((kind, entry))
        if updated is not current:
            stored = replace(updated, version=current.version + 1)
            await store_list(repos, uow, stored, read_version=current.version)
        for unlisted, code in adoptable:
            if unlisted.value == code:
                continue  # the entry alone makes these records listed
            renamed = await every_use[kind].rename(unlisted.value, code)
            adoption.renamed.append((unlisted, renamed))
            if renamed < unlisted.records:
                reason = f"{unlisted.records - renamed} of its {every_use[kind].noun} also carry {code!r}"
                adoption.left.append((unlisted, reason))
    return adoption
