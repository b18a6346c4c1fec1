"""Managed lists at the domain: defaults, saving entries under optimistic concurrency, rules of entries."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.errors import Conflict, ValidationFailed
from domain.lists.defaults import DEFAULT_ENTRIES, default_codes, default_entries
from domain.lists.models import ListEntry, ListKind, ManagedList, check_entry, code_for
from domain.lists.service import EntryChange, ensure_default_lists, save_entry
from domain.repositories import Repositories
from tests import factories as f

NOW = f.NOW
DIMENSION, CATEGORY, CAUSE = ListKind.SERVICE_DIMENSION, ListKind.CASE_CATEGORY, ListKind.ROOT_CAUSE


def change(**overrides: Any) -> EntryChange:
    base = EntryChange(
        kind=CATEGORY, code="loyalty", label="Loyalty programme", active=True, expected_version=1
    )
    return replace(base, **overrides)


async def stored(db: MongoDatabase) -> dict[str, Any]:
    return {d["_id"]: d async for d in db["lists"].find({})}


async def test_a_fresh_database_reads_the_default_vocabulary_at_version_0(repos: Repositories) -> None:
    dimensions = await repos.lists.get(DIMENSION)
    assert dimensions.version == 0
    assert [e.code for e in dimensions.entries] == [
        "speed",
        "friendliness",
        "competence",
        "reliability",
        "value",
        "clarity",
        "availability",
    ]
    categories = await repos.lists.get(CATEGORY)
    assert categories.entry("product-quality") == ListEntry("product-quality", "Product quality")
    assert default_codes(CATEGORY) == (
        "billing",
        "delivery",
        "product-quality",
        "staff",
        "website",
        "returns",
        "account",
    )


def test_the_default_vocabulary_keeps_the_rules_of_entries() -> None:
    assert set(DEFAULT_ENTRIES) == {DIMENSION, CATEGORY, CAUSE}
    categories = ManagedList(CATEGORY, default_entries(CATEGORY))
    for kind, entries in DEFAULT_ENTRIES.items():
        assert len({code for code, _ in entries}) == len(entries)
        for entry in default_entries(kind):
            parents = categories if kind is CAUSE else None
            assert check_entry(entry, parents=parents) == [], entry.code
    # Every category has a cause or more beneath it: the root-cause tree covers what cases are about.
    assert {e.parent for e in default_entries(CAUSE)} == set(default_codes(CATEGORY))


async def test_defaults_are_stored_once_and_never_reactivate_a_retired_entry(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    first = await stored(db)
    assert set(first) == {"SERVICE_DIMENSION", "CASE_CATEGORY", "ROOT_CAUSE"}
    assert all(d["version"] == 1 for d in first.values())

    retired = change(kind=DIMENSION, code="clarity", label="Clarity", active=False)
    await save_entry(repos, uow, change=retired, by="manager-1", now=NOW)
    await ensure_default_lists(repos, uow, now=NOW + timedelta(days=1))

    dimensions = await repos.lists.get(DIMENSION)
    assert dimensions.version == 2
    assert dimensions.entry("clarity") == ListEntry("clarity", "Clarity", False, None, "manager-1", NOW)
    assert (await stored(db))["CASE_CATEGORY"] == first["CASE_CATEGORY"]


async def test_defaults_missing_from_a_stored_list_are_added_after_its_own_entries(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await save_entry(repos, uow, change=change(expected_version=0), by="manager-1", now=NOW)
    trimmed = ManagedList(CATEGORY, (ListEntry("billing", "Invoices", updated_by="manager-1"),), 1)
    assert await repos.lists.replace(trimmed, read_version=1)

    later = NOW + timedelta(days=1)
    await ensure_default_lists(repos, uow, now=later)

    categories = await repos.lists.get(CATEGORY)
    assert categories.version == 2
    assert categories.entries[0] == ListEntry("billing", "Invoices", updated_by="manager-1")
    assert [e.code for e in categories.entries[1:]] == list(default_codes(CATEGORY)[1:])
    assert categories.entries[1].updated_at == later


async def test_defaults_stored_by_several_processes_at_once_are_stored_once(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    await asyncio.gather(*(ensure_default_lists(repos, uow, now=NOW) for _ in range(4)))
    lists = await stored(db)
    assert {kind: d["version"] for kind, d in lists.items()} == {
        "SERVICE_DIMENSION": 1,
        "CASE_CATEGORY": 1,
        "ROOT_CAUSE": 1,
    }
    assert len(lists["CASE_CATEGORY"]["entries"]) == len(default_codes(CATEGORY))


async def test_a_manager_adds_an_entry_with_who_and_when(repos: Repositories, uow: MongoUnitOfWork) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    saved = await save_entry(repos, uow, change=change(label="  Loyalty programme "), by="manager-1", now=NOW)
    assert saved.version == 2
    assert saved.entries[-1] == ListEntry("loyalty", "Loyalty programme", True, None, "manager-1", NOW)
    assert await repos.lists.get(CATEGORY) == saved


async def test_the_first_save_to_a_never_stored_list_keeps_the_defaults(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    saved = await save_entry(repos, uow, change=change(expected_version=0), by="manager-1", now=NOW)
    assert saved.version == 1
    assert [e.code for e in saved.entries] == [*default_codes(CATEGORY), "loyalty"]


async def test_a_change_to_a_list_changed_since_it_was_read_is_a_conflict(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    await save_entry(repos, uow, change=change(), by="manager-1", now=NOW)
    with pytest.raises(Conflict, match="version 2, not 1"):
        await save_entry(repos, uow, change=change(code="gifts", label="Gifts"), by="manager-2", now=NOW)
    assert (await repos.lists.get(CATEGORY)).entry("gifts") is None


async def test_concurrent_changes_at_one_version_store_exactly_one(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    outcomes = await asyncio.gather(
        *(
            save_entry(repos, uow, change=change(code=f"new-{n}", label=f"New {n}"), by="m", now=NOW)
            for n in range(6)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(o, ManagedList) for o in outcomes) == 1
    assert all(isinstance(o, ManagedList | Conflict) for o in outcomes)
    categories = await repos.lists.get(CATEGORY)
    assert categories.version == 2
    assert len(categories.entries) == len(default_codes(CATEGORY)) + 1


async def test_an_identical_retry_answers_the_list_and_writes_nothing(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    first = await save_entry(repos, uow, change=change(), by="manager-1", now=NOW)
    # The answer was lost; the client retries with the version it had read, a minute later.
    retry = await save_entry(repos, uow, change=change(), by="manager-1", now=NOW + timedelta(minutes=1))
    assert retry == first
    assert await repos.lists.get(CATEGORY) == first


async def test_retiring_keeps_the_entry_and_reactivating_is_a_change(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    retire = change(kind=DIMENSION, code="speed", label="Speed", active=False)
    retired = await save_entry(repos, uow, change=retire, by="manager-1", now=NOW)
    assert retired.is_listed("speed")
    assert not retired.is_active("speed")
    back = await save_entry(
        repos, uow, change=replace(retire, active=True, expected_version=2), by="m", now=NOW
    )
    assert back.version == 3
    assert back.is_active("speed")


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"code": "Loyalty"}, "code", "INVALID"),
        ({"code": "-loyalty"}, "code", "INVALID"),
        ({"code": "loyalty programme"}, "code", "INVALID"),
        ({"code": "x" * 41}, "code", "INVALID"),
        ({"code": ""}, "code", "INVALID"),
        ({"label": "   "}, "label", "INVALID"),
        ({"label": "x" * 81}, "label", "INVALID"),
        ({"label": "two\nlines"}, "label", "INVALID"),
        ({"parent": "billing"}, "parent", "NOT_ALLOWED"),
    ],
)
async def test_an_entry_breaking_a_rule_is_refused_and_nothing_is_written(
    repos: Repositories, uow: MongoUnitOfWork, overrides: dict[str, Any], field: str, code: str
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    before = await repos.lists.get(CATEGORY)
    with pytest.raises(ValidationFailed) as refused:
        await save_entry(repos, uow, change=change(**overrides), by="manager-1", now=NOW)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]
    assert await repos.lists.get(CATEGORY) == before


def test_codes_of_40_characters_with_digits_dashes_and_underscores_are_valid() -> None:
    for code in ("a", "9", "x" * 40, "product-quality", "after_sales-2"):
        assert check_entry(ListEntry(code, "Label"), parents=None) == [], code


def test_an_entry_of_a_tree_kind_needs_an_active_parent_of_the_parent_kind() -> None:
    categories = ManagedList(
        CATEGORY, (ListEntry("billing", "Billing"), ListEntry("fax", "Fax", active=False))
    )

    def problems(entry: ListEntry) -> list[tuple[str, str]]:
        return [(e.field, e.code) for e in check_entry(entry, parents=categories)]

    assert problems(ListEntry("double-charge", "Charged twice", parent="billing")) == []
    assert problems(ListEntry("double-charge", "Charged twice")) == [("parent", "REQUIRED")]
    assert problems(ListEntry("double-charge", "Charged twice", parent="nope")) == [("parent", "UNKNOWN")]
    assert problems(ListEntry("paper-jam", "Paper jam", parent="fax")) == [("parent", "UNKNOWN")]
    # A retired entry may keep the parent that was retired with it.
    assert problems(ListEntry("paper-jam", "Paper jam", active=False, parent="fax")) == []


def test_listed_means_active_or_retired_and_intake_takes_active_codes_only() -> None:
    dimensions = ManagedList(DIMENSION, (ListEntry("speed", "Speed"), ListEntry("clarity", "Clarity", False)))
    assert [dimensions.is_listed(c) for c in ("speed", "clarity", "Speed", "tone")] == [
        True,
        True,
        False,
        False,
    ]
    assert [dimensions.is_active(c) for c in ("speed", "clarity", "tone")] == [True, False, False]
    assert dimensions.refusal("items.0.dimension", "speed") is None
    unknown = dimensions.refusal("items.0.dimension", "Speed")
    retired = dimensions.refusal("items.1.dimension", "clarity")
    assert unknown is not None
    assert retired is not None
    assert (unknown.field, unknown.code) == ("items.0.dimension", "UNKNOWN")
    assert "managedList(kind: SERVICE_DIMENSION)" in unknown.message
    assert (retired.field, retired.code) == ("items.1.dimension", "UNKNOWN")
    assert "retired" in retired.message


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("product quality", "product-quality"),
        ("Product Quality ", "product-quality"),
        ("price.$plan", "price-plan"),
        ("Rapidité", "rapidite"),
        ("after_sales", "after_sales"),
        ("--late!!", "late"),
        ("x" * 45, "x" * 40),
        ("!!!", None),
        ("配送", None),
    ],
)
def test_a_code_is_derived_from_free_text(value: str, code: str | None) -> None:
    assert code_for(value) == code
