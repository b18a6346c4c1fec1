"""Intake takes codes of the managed lists only: free text and retired codes are refused, nothing written."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from api.storage.client import MongoDatabase, MongoUnitOfWork
from domain.crm.models import CaseChannel, CaseKind, Severity
from domain.crm.service import CaseChange, NewCase, open_case, update_case
from domain.errors import ValidationFailed
from domain.feedback.batch import submit_batch
from domain.feedback.models import ScoreItem
from domain.feedback.service import Intake, submit_feedback
from domain.lists.models import ListKind
from domain.lists.service import EntryChange, ensure_default_lists, save_entry
from domain.repositories import Repositories
from tests import factories as f
from tests.domain.test_closed_loop import CUSTOMER, NOW, detractor


async def written(db: MongoDatabase) -> list[int]:
    return [await db[name].count_documents({}) for name in ("feedback", "cases", "alerts", "rollups")]


async def retire(repos: Repositories, uow: MongoUnitOfWork, kind: ListKind, code: str) -> None:
    current = await repos.lists.get(kind)
    entry = current.entry(code)
    assert entry is not None
    retired = EntryChange(kind, code, entry.label, active=False, expected_version=current.version)
    await save_entry(repos, uow, change=retired, by="manager-1", now=NOW)


def new_case(customer_id: str, **overrides: Any) -> NewCase:
    base = NewCase(
        customer_id=customer_id,
        kind=CaseKind.COMPLAINT,
        channel=CaseChannel.PHONE,
        category="delivery",
        severity=Severity.HIGH,
        subject="Parcel lost",
    )
    return replace(base, **overrides)


@pytest.fixture
async def customer_id(repos: Repositories) -> str:
    customer = f.customer()
    await repos.customers.insert_many([customer])
    return customer.id


async def test_every_item_must_name_a_listed_service_dimension(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase, customer_id: str
) -> None:
    items = (ScoreItem("speed", 5, 5), ScoreItem("Friendliness", 5, 4), ScoreItem("price.$plan", 4, 2))
    with pytest.raises(ValidationFailed) as refused:
        await submit_feedback(
            repos, uow, submitter=CUSTOMER, submission=detractor(customer_id, items=items), now=NOW
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("items.1.dimension", "UNKNOWN"),
        ("items.2.dimension", "UNKNOWN"),
    ]
    assert await written(db) == [0, 0, 0, 0]


async def test_a_retired_dimension_is_refused_but_a_retry_of_a_response_stored_before_is_answered(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase, customer_id: str
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    stored = await submit_feedback(repos, uow, submitter=CUSTOMER, submission=detractor(customer_id), now=NOW)
    await retire(repos, uow, ListKind.SERVICE_DIMENSION, "speed")

    retry = await submit_feedback(repos, uow, submitter=CUSTOMER, submission=detractor(customer_id), now=NOW)
    assert retry.duplicate
    assert retry.feedback == stored.feedback
    with pytest.raises(ValidationFailed) as refused:
        await submit_feedback(
            repos, uow, submitter=CUSTOMER, submission=detractor(customer_id, key="k-2"), now=NOW
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [("items.0.dimension", "UNKNOWN")]
    assert (await written(db))[0] == 1


async def test_a_batch_refuses_its_items_naming_unlisted_dimensions_and_stores_the_others(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase, customer_id: str
) -> None:
    submissions = [
        detractor(customer_id, key="b-0"),
        detractor(customer_id, key="b-1", items=(ScoreItem("value", 4, 4), ScoreItem("Vibes", 5, 1))),
        detractor(customer_id, key="b-2", items=()),
    ]
    answers = await submit_batch(repos, uow, submitter=CUSTOMER, submissions=submissions, now=NOW)
    refused = answers[1]
    assert isinstance(refused, ValidationFailed)
    assert [(e.field, e.code) for e in refused.errors] == [("items.1.dimension", "UNKNOWN")]
    assert [isinstance(a, Intake) for a in answers] == [True, False, True]
    assert (await written(db))[0] == 2


async def test_a_response_without_items_needs_no_list(
    repos: Repositories, uow: MongoUnitOfWork, customer_id: str
) -> None:
    intake = await submit_feedback(
        repos, uow, submitter=CUSTOMER, submission=detractor(customer_id, items=()), now=NOW
    )
    assert intake.feedback.items == ()


async def test_a_case_must_name_an_active_category(
    repos: Repositories, uow: MongoUnitOfWork, db: MongoDatabase, customer_id: str
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    await retire(repos, uow, ListKind.CASE_CATEGORY, "website")
    for category in ("late delivery", "Delivery", " delivery", "website"):
        with pytest.raises(ValidationFailed) as refused:
            await open_case(repos, uow, new=new_case(customer_id, category=category), by="agent-1", now=NOW)
        assert [(e.field, e.code) for e in refused.value.errors] == [("category", "UNKNOWN")], category
    assert await written(db) == [0, 0, 0, 0]

    case, alert = await open_case(repos, uow, new=new_case(customer_id), by="agent-1", now=NOW)
    assert case.category == "delivery"
    assert alert is not None


async def test_a_bad_subject_and_category_are_reported_together(
    repos: Repositories, uow: MongoUnitOfWork, customer_id: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await open_case(
            repos, uow, new=new_case(customer_id, subject=" ", category="late"), by="agent-1", now=NOW
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("subject", "INVALID"),
        ("category", "UNKNOWN"),
    ]


async def test_a_case_moves_to_another_active_category_only(
    repos: Repositories, uow: MongoUnitOfWork, customer_id: str
) -> None:
    case, _ = await open_case(repos, uow, new=new_case(customer_id), by="agent-1", now=NOW)
    with pytest.raises(ValidationFailed) as refused:
        await update_case(repos, change=CaseChange(case.id, 1, category="late"), by="agent-1", now=NOW)
    assert [(e.field, e.code) for e in refused.value.errors] == [("category", "UNKNOWN")]
    assert (await repos.cases.get_many([case.id]))[case.id] == case

    moved = await update_case(repos, change=CaseChange(case.id, 1, category="returns"), by="agent-1", now=NOW)
    assert (moved.category, moved.version) == ("returns", 2)


async def test_a_case_keeps_a_category_retired_since_it_was_opened(
    repos: Repositories, uow: MongoUnitOfWork, customer_id: str
) -> None:
    await ensure_default_lists(repos, uow, now=NOW)
    case, _ = await open_case(repos, uow, new=new_case(customer_id), by="agent-1", now=NOW)
    await retire(repos, uow, ListKind.CASE_CATEGORY, "delivery")
    change = CaseChange(case.id, 1, category="delivery", note="Called back", resolution="Refunded")
    updated = await update_case(repos, change=change, by="agent-1", now=NOW)
    assert (updated.category, updated.resolution) == ("delivery", "Refunded")
