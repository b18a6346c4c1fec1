"""Managed lists: the company's vocabularies (service dimensions, case categories, root causes) that managers
maintain.

A value that reaches records and aggregates from such a list is a stable code, never free text: intake
refuses any code that is not an active entry, and a retired entry stays in its list so that old records
keep their meaning.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from domain.errors import FieldError

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_CODE = 40
MAX_LABEL = 80


class ListKind(StrEnum):
    """Which vocabulary a list is; each kind is one stored list."""

    SERVICE_DIMENSION = "SERVICE_DIMENSION"  # the expectation-perception items of feedback
    CASE_CATEGORY = "CASE_CATEGORY"  # what a case is about; complaints are grouped by it
    ROOT_CAUSE = "ROOT_CAUSE"  # why an alert or a complaint happened: a cause under a case category


# The kind an entry's ``parent`` must be an active entry of, for kinds shaped as a tree; every other kind's
# entries have no parent. Root causes are a short tree: category (delivery) -> cause (carrier-delay).
PARENT_KINDS: Mapping[ListKind, ListKind] = {ListKind.ROOT_CAUSE: ListKind.CASE_CATEGORY}


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One value of a list: its stable code, what screens show, and whether intake still accepts it."""

    code: str
    label: str
    active: bool = True
    parent: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None

    def same_content(self, other: ListEntry) -> bool:
        """Whether both say the same, whoever changed them last."""
        return (self.code, self.label, self.active, self.parent) == (
            other.code,
            other.label,
            other.active,
            other.parent,
        )


@dataclass(frozen=True, slots=True)
class ManagedList:
    """A list of one kind, changed under optimistic concurrency: ``version`` 0 means never stored."""

    kind: ListKind
    entries: tuple[ListEntry, ...]
    version: int = 0

    def entry(self, code: str) -> ListEntry | None:
        """The entry with this code, active or retired."""
        return next((e for e in self.entries if e.code == code), None)

    def is_listed(self, code: str) -> bool:
        """Whether ``code`` is an entry of the list, active or retired (records may carry either)."""
        return self.entry(code) is not None

    def is_active(self, code: str) -> bool:
        """Whether intake accepts ``code`` now."""
        found = self.entry(code)
        return found is not None and found.active

    def refusal(self, field: str, code: str) -> FieldError | None:
        """Why intake refuses ``code`` in ``field``, or None when it is an active entry."""
        found = self.entry(code)
        if found is not None and found.active:
            return None
        noun = self.kind.value
        if found is None:
            message = f"{code!r} is not a {noun} code; the codes are in managedList(kind: {noun})"
        else:
            message = f"{code!r} is a retired {noun} code; choose an active one"
        return FieldError(field, "UNKNOWN", message)

    def with_entry(self, entry: ListEntry) -> ManagedList:
        """The list with ``entry`` replacing the one of the same code, or appended (same version)."""
        if self.is_listed(entry.code):
            entries = tuple(entry if e.code == entry.code else e for e in self.entries)
        else:
            entries = (*self.entries, entry)
        return replace(self, entries=entries)


def check_entry(entry: ListEntry, *, parents: ManagedList | None) -> list[FieldError]:
    """Every rule a new or changed entry breaks; ``parents`` is the list of its kind's parent kind (None: the
    kind's entries have no parent)."""
    errors: list[FieldError] = []
    if not CODE_PATTERN.match(entry.code):
        errors.append(
            FieldError(
                "code",
                "INVALID",
                f"must be 1 to {MAX_CODE} characters: lowercase letters, digits, '-' and '_', "
                "starting with a letter or digit",
            )
        )
    if not 1 <= len(entry.label) <= MAX_LABEL or not entry.label.isprintable():
        errors.append(FieldError("label", "INVALID", f"must be 1 to {MAX_LABEL} printable characters"))
    if parents is None:
        if entry.parent is not None:
            errors.append(FieldError("parent", "NOT_ALLOWED", "entries of this list have no parent"))
    elif entry.parent is None:
        errors.append(
            FieldError("parent", "REQUIRED", f"name the {parents.kind.value} this entry belongs to")
        )
    elif not (parents.is_active(entry.parent) if entry.active else parents.is_listed(entry.parent)):
        # A retired entry may keep a parent retired since; an active one needs an active parent.
        wanted = "an active" if entry.active else "a"
        errors.append(
            FieldError("parent", "UNKNOWN", f"{entry.parent!r} is not {wanted} {parents.kind.value} code")
        )
    return errors


def code_for(value: str) -> str | None:
    """The code a free-text value would have: lowercase ASCII words joined by '-' (None: nothing usable).

    ``"Product quality"`` becomes ``product-quality`` and ``"Rapidité"`` ``rapidite``.
    """
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    code = re.sub(r"[^a-z0-9_]+", "-", ascii_text.lower()).strip("-_")[:MAX_CODE].rstrip("-_")
    return code if CODE_PATTERN.match(code) else None
