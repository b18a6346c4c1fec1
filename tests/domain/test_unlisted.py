"""Free text stored before the lists: found with counts, and adopted only when asked."""

from __future__ import annotations

from collections.abc import Sequence

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.aggregates.service import rebuild_rollups, verify_rollups
from domain.feedback.models import Feedback, ScoreItem
from domain.lists.models import ListEntry, ListKind
from domain.lists.service import EntryChange, ensure_default_lists, save_entry
from domain.lists.unlisted import Unlisted, adopt, find_unlisted, usages
from domain.repositories import Repositories
from tests import factories as f

NOW = f.NOW
DIMENSION, CATEGORY = ListKind.SERVICE_DIMENSION, ListKind.CASE_CATEGORY


def response(*dimensions: str) -> Feedback:
    return f.feedback(f.customer(), items=tuple(ScoreItem(d, 5, 4) for d in dimensions))


async def store(repos: Repositories, responses: Sequence[Feedback], categories: Sequence[str]) -> None:
    customer = f.customer()
    await f.store_feedback(repos, list(responses))
    await repos.cases.insert_many([f.case(customer, category=c) for c in categories])


async def snapshot(db: MongoDatabase) -> list[list[dict[str, object]]]:
    return [
        await db[name].find({}).sort("_id").to_list() for name in ("feedback", "cases", "lists", "rollups")
    ]


def test_every_list_kind_has_its_use_in_records(repos: Repositories) -> None:
    assert set(usages(repos)) == set(ListKind)


async def test_unlisted_values_are_found_with_counts_and_nothing_is_written(
    repos: Repositories, db: MongoDatabase
) -> None:
    responses = [
        response("speed", "Speed"),
        response("Speed", "price.$plan"),
        response("Speed"),
        response("friendliness"),
        response(),
    ]
    await store(repos, responses, ["delivery", "late", "product quality", "late", "!!!"])
    before = await snapshot(db)

    found = await find_unlisted(repos)

    assert found == [
        Unlisted(DIMENSION, "Speed", 3, "speed"),
        Unlisted(DIMENSION, "price.$plan", 1, "price-plan"),
        Unlisted(CATEGORY, "late", 2, "late"),
        Unlisted(CATEGORY, "!!!", 1, None),
        Unlisted(CATEGORY, "product quality", 1, "product-quality"),
    ]
    assert await snapshot(db) == before


async def test_retired_codes_are_listed(repos: Repositories, uow: MongoUnitOfWork) -> None:
    await store(repos, [response("clarity")], ["website"])
    await ensure_default_lists(repos, uow, now=NOW)
    for kind, code, label in ((DIMENSION, "clarity", "Clarity"), (CATEGORY, "website", "Website")):
        retired = EntryChange(kind, code, label, active=False, expected_version=1)
        await save_entry(repos, uow, change=retired, by="manager-1", now=NOW)
    assert await find_unlisted(repos) == []


async def test_adopting_adds_entries_and_gives_records_the_codes(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase
) -> None:
    responses = [response("Speed", "price.$plan"), response("Speed", "speed"), response("tone")]
    await store(repos, responses, ["late", "product quality", "!!!"])
    await ensure_default_lists(repos, uow, now=NOW)

    adoption = await adopt(repos, uow, await find_unlisted(repos), by="operator", now=NOW)

    assert adoption.added == [
        (DIMENSION, ListEntry("price-plan", "price.$plan", True, None, "operator", NOW)),
        (DIMENSION, ListEntry("tone", "tone", True, None, "operator", NOW)),
        (CATEGORY, ListEntry("late", "late", True, None, "operator", NOW)),
    ]
    # Values that are codes already ('tone', 'late') need their entry only.
    renamed = [(u.value, n) for u, n in adoption.renamed]
    assert renamed == [("Speed", 1), ("price.$plan", 1), ("product quality", 1)]
    assert [(u.value, why) for u, why in adoption.left] == [
        ("Speed", "1 of its responses also carry 'speed'"),
        ("!!!", "no code can be made of it"),
    ]
    stored = {d["_id"]: [i["dimension"] for i in d["items"]] async for d in db["feedback"].find({})}
    assert stored == {
        responses[0].id: ["speed", "price-plan"],
        responses[1].id: ["Speed", "speed"],
        responses[2].id: ["tone"],
    }
    assert sorted(await db["cases"].distinct("category")) == ["!!!", "late", "product-quality"]
    assert (await repos.lists.get(DIMENSION)).version == 2
    assert [(u.value, u.records) for u in await find_unlisted(repos)] == [("Speed", 1), ("!!!", 1)]


async def test_adopting_again_changes_nothing_more(repos: Repositories, uow: MongoUnitOfWork) -> None:
    await store(repos, [response("Tone")], ["late"])
    await adopt(repos, uow, await find_unlisted(repos), by="operator", now=NOW)
    lists = await repos.lists.get_many(ListKind)
    assert await find_unlisted(repos) == []
    again = await adopt(repos, uow, await find_unlisted(repos), by="operator", now=NOW)
    assert (again.added, again.renamed, again.left) == ([], [], [])
    assert await repos.lists.get_many(ListKind) == lists


async def test_adopting_maps_onto_a_retired_entry_without_reactivating_it(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await store(repos, [response("Clarity")], [])
    await ensure_default_lists(repos, uow, now=NOW)
    retired = EntryChange(DIMENSION, "clarity", "Clarity", active=False, expected_version=1)
    await save_entry(repos, uow, change=retired, by="manager-1", now=NOW)

    adoption = await adopt(repos, uow, await find_unlisted(repos), by="operator", now=NOW)

    assert adoption.added == []
    assert [(u.value, n) for u, n in adoption.renamed] == [("Clarity", 1)]
    dimensions = await repos.lists.get(DIMENSION)
    assert (dimensions.version, dimensions.is_active("clarity")) == (2, False)


async def test_rollups_rebuilt_after_adopting_agree_with_the_renamed_feedback(
    repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await store(repos, [response("Speed"), response("speed")], [])
    await adopt(repos, uow, await find_unlisted(repos), by="operator", now=NOW)
    assert await verify_rollups(repos) != []  # counted under the old name until rebuilt
    await rebuild_rollups(repos)
    assert await verify_rollups(repos) == []
