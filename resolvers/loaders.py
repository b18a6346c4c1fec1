"""Per-request batching: every lookup made while resolving one request is grouped into few commands."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiodataloader import DataLoader

from domain.alerts.models import Alert
from domain.crm.models import Case, Interaction, Opportunity, Transaction
from domain.customers.models import Customer
from domain.employees.models import Employee
from domain.feedback.models import Feedback
from domain.metrics import CustomerMetrics, compute_metrics
from domain.paging import Page, Position
from domain.records import CustomerRecords, Ties
from domain.repositories import Repositories

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")


def batch_by_id(fetch: Callable[[Sequence[str]], Awaitable[dict[str, V]]]) -> DataLoader[str, V | None]:
    """A loader of records by id: one ``$in`` query per batch, results in key order, None when missing."""

    async def load(ids: Sequence[str]) -> list[V | None]:
        found = await fetch(list(dict.fromkeys(ids)))
        return [found.get(i) for i in ids]

    return DataLoader(batch_load_fn=load)


def batch_by_customer(fetch: Callable[[Sequence[str]], Awaitable[dict[str, V]]]) -> DataLoader[str, V]:
    """A loader of one value per customer id, fetched for the whole batch at once."""

    async def load(customer_ids: Sequence[str]) -> list[V]:
        found = await fetch(list(dict.fromkeys(customer_ids)))
        return [found[c] for c in customer_ids]

    return DataLoader(batch_load_fn=load)


@dataclass(frozen=True, slots=True)
class PageKey:
    """One customer's page request: the same limit and position for many customers batch together."""

    customer_id: str
    limit: int
    after: Position | None = None
    ties: Ties = Ties.BY_ID


class PageLoader(Generic[R]):
    """Newest-first pages of one per-customer collection, one command per distinct (limit, position)."""

    def __init__(self, repository: CustomerRecords[R]) -> None:
        self._repository = repository
        self._loader: DataLoader[PageKey, Page[R]] = DataLoader(batch_load_fn=self._load)

    async def load(self, key: PageKey) -> Page[R]:
        page: Page[R] = await self._loader.load(key)
        return page

    async def _load(self, keys: Sequence[PageKey]) -> list[Page[R]]:
        groups: dict[tuple[int, Position | None, Ties], list[str]] = defaultdict(list)
        for key in keys:
            groups[(key.limit, key.after, key.ties)].append(key.customer_id)
        results: dict[PageKey, Page[R]] = {}
        for (limit, after, ties), customer_ids in groups.items():
            pages = await self._repository.pages(customer_ids, limit=limit, after=after, ties=ties)
            for customer_id in customer_ids:
                results[PageKey(customer_id, limit, after, ties)] = pages.get(customer_id, Page((), False))
        return [results[key] for key in keys]


@dataclass(frozen=True, slots=True)
class RecordLoaders(Generic[R]):
    """Everything loaded from one per-customer collection: records by id, pages and counts."""

    by_id: DataLoader[str, R | None]
    pages: PageLoader[R]
    counts: DataLoader[str, int]

    @classmethod
    def of(cls, repository: CustomerRecords[R]) -> RecordLoaders[R]:
        return cls(
            by_id=batch_by_id(repository.get_many),
            pages=PageLoader(repository),
            counts=batch_by_customer(repository.counts),
        )


@dataclass(frozen=True, slots=True)
class Loaders:
    """The loaders of one request; never shared between requests, so nothing leaks across callers."""

    customers: DataLoader[str, Customer | None]
    employees: DataLoader[str, Employee | None]
    transactions: RecordLoaders[Transaction]
    interactions: RecordLoaders[Interaction]
    cases: RecordLoaders[Case]
    feedback: RecordLoaders[Feedback]
    opportunities: RecordLoaders[Opportunity]
    metrics: DataLoader[str, CustomerMetrics | None]
    alerts: RecordLoaders[Alert]
    alerts_by_feedback: DataLoader[str, Alert | None]

    @classmethod
    def create(cls, repos: Repositories) -> Loaders:
        customers = batch_by_id(repos.customers.get_many)

        async def metrics(customer_ids: Sequence[str]) -> dict[str, CustomerMetrics]:
            profiles: list[Customer | None] = await customers.load_many(customer_ids)
            scores, open_cases, last_interaction, last_case = await asyncio.gather(
                repos.feedback.scores(customer_ids),
                repos.cases.open_counts(customer_ids),
                repos.interactions.latest(customer_ids),
                repos.cases.latest(customer_ids),
            )
            result: dict[str, CustomerMetrics] = {}
            for customer_id, profile in zip(customer_ids, profiles, strict=True):
                if profile is None:
                    continue
                customer_scores = scores[customer_id]
                result[customer_id] = compute_metrics(
                    scores=customer_scores,
                    open_cases=open_cases[customer_id],
                    lifetime_value=profile.lifetime_value,
                    contact_times=(
                        last_interaction.get(customer_id),
                        last_case.get(customer_id),
                        customer_scores[0].occurred_at if customer_scores else None,
                    ),
                )
            return result

        return cls(
            customers=customers,
            employees=batch_by_id(repos.employees.get_many),
            transactions=RecordLoaders.of(repos.transactions),
            interactions=RecordLoaders.of(repos.interactions),
            cases=RecordLoaders.of(repos.cases),
            feedback=RecordLoaders.of(repos.feedback),
            opportunities=RecordLoaders.of(repos.opportunities),
            metrics=batch_by_id(metrics),
            alerts=RecordLoaders.of(repos.alerts),
            alerts_by_feedback=batch_by_id(repos.alerts.by_feedback),
        )
