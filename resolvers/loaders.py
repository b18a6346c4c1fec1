"""Per-request batching: every lookup made while resolving one request is grouped into few commands."""

from __future__ import annotations

import asyncio
from asyncio import Future
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader
from graphql import FieldNode

from domain.alerts.models import Alert
from domain.crm.models import Case, Interaction, Opportunity, Transaction
from domain.customer_records import CustomerRecords, Ties
from domain.customers.metrics import CustomerMetrics, compute_metrics
from domain.customers.models import Customer
from domain.employees.models import Employee
from domain.feedback.models import Feedback
from domain.paging import Page, Position
from domain.repositories import Repositories
from domain.standing.models import Standing

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")


class Loader(DataLoader[K, V]):
    """A DataLoader that answers what was primed into it even when it does not cache what it loads.

    A request read in one pipeline (``resolvers/pipeline``) primes its loaders with what the pipeline read;
    anything it did not read is still loaded on demand, in batches.
    """

    def load(self, key: K) -> Future[V]:
        found: Future[V] | None = None
        if not self.cache:
            # Without caching only ``prime`` writes the cache.
            found = self._cache.get(self.get_cache_key(key))
        if found is None:
            found = super().load(key)
        # One future answers every field asking for the same key: cancelling one field's wait (graphql-core
        # cancels the fields still running beside one that failed) must not cancel it for the others.
        return asyncio.shield(found)


def batch_by_id(
    fetch: Callable[[Sequence[str]], Awaitable[dict[str, V]]], *, cache: bool = True
) -> Loader[str, V | None]:
    """A loader of records by id: one ``$in`` query per batch, results in key order, None when missing.

    Without ``cache`` each batch reads every id it was asked for, even ids an earlier batch read.
    """

    async def load(ids: Sequence[str]) -> list[V | None]:
        found = await fetch(list(dict.fromkeys(ids)))
        return [found.get(i) for i in ids]

    return Loader(batch_load_fn=load, cache=cache)


def batch_by_customer(fetch: Callable[[Sequence[str]], Awaitable[dict[str, V]]]) -> Loader[str, V]:
    """A loader of one value per customer id, fetched for the whole batch at once."""

    async def load(customer_ids: Sequence[str]) -> list[V]:
        found = await fetch(list(dict.fromkeys(customer_ids)))
        return [found[c] for c in customer_ids]

    return Loader(batch_load_fn=load)


@dataclass(frozen=True, slots=True)
class PageKey:
    """One customer's page request: the same limit and position for many customers batch together."""

    customer_id: str
    limit: int
    after: Position | None = None
    ties: Ties = Ties.BY_ID


class PageWave:
    """The pages of every per-customer collection asked for in one batch, read together and settled together.

    One command per collection and distinct (limit, position), all sent at once; every page of the wave
    resolves in the same step, so what the pages refer to (employees, customers) is asked for in one
    batch too, whichever collection answered first.
    """

    def __init__(self) -> None:
        self._repositories: dict[str, CustomerRecords[Any]] = {}
        self._loader: Loader[tuple[str, PageKey], Page[Any]] = Loader(batch_load_fn=self._load)

    def of(self, name: str, repository: CustomerRecords[R]) -> PageLoader[R]:
        """The page loader of one collection, batching through this wave."""
        self._repositories[name] = repository
        return PageLoader(self, name)

    async def load(self, name: str, key: PageKey) -> Page[Any]:
        page: Page[Any] = await self._loader.load((name, key))
        return page

    def prime(self, name: str, key: PageKey, page: Page[Any]) -> None:
        self._loader.prime((name, key), page)

    async def _load(self, keys: Sequence[tuple[str, PageKey]]) -> list[Page[Any]]:
        groups: dict[tuple[str, int, Position | None, Ties], list[str]] = defaultdict(list)
        for name, key in keys:
            groups[(name, key.limit, key.after, key.ties)].append(key.customer_id)
        read = await asyncio.gather(
            *(
                self._repositories[name].pages(customer_ids, limit=limit, after=after, ties=ties)
                for (name, limit, after, ties), customer_ids in groups.items()
            )
        )
        results: dict[tuple[str, PageKey], Page[Any]] = {}
        for (name, limit, after, ties), pages in zip(groups, read, strict=True):
            for customer_id in groups[(name, limit, after, ties)]:
                key = PageKey(customer_id, limit, after, ties)
                results[(name, key)] = pages.get(customer_id, Page((), False))
        return [results[key] for key in keys]


class PageLoader(Generic[R]):
    """Newest-first pages of one per-customer collection, batched with the other collections' pages."""

    def __init__(self, wave: PageWave, name: str) -> None:
        self._wave = wave
        self._name = name

    async def load(self, key: PageKey) -> Page[R]:
        page: Page[R] = await self._wave.load(self._name, key)
        return page

    def prime(self, key: PageKey, page: Page[R]) -> None:
        """Makes ``load(key)`` answer ``page`` without reading it."""
        self._wave.prime(self._name, key, page)


@dataclass(frozen=True, slots=True)
class RecordLoaders(Generic[R]):
    """Everything loaded from one per-customer collection: records by id, pages and counts."""

    by_id: Loader[str, R | None]
    pages: PageLoader[R]
    counts: Loader[str, int]

    @classmethod
    def of(cls, name: str, repository: CustomerRecords[R], wave: PageWave) -> RecordLoaders[R]:
        return cls(
            by_id=batch_by_id(repository.get_many),
            pages=wave.of(name, repository),
            counts=batch_by_customer(repository.counts),
        )


class CompletedPages:
    """Record pages completed in full by an execution's pipeline, by the field node that selects them and
    the customer: the field's resolver answers with one instead of loading and viewing the page.

    ``execution`` is what identifies one execution of an operation (its coerced variables, made anew for
    each): a WebSocket's operations share one context, and may run the same document at the same time.
    """

    __slots__ = ("_pages",)

    def __init__(self) -> None:
        self._pages: dict[tuple[int, int, str], tuple[object, Any]] = {}

    def put(self, execution: object, node: FieldNode, customer_id: str, completed: Any) -> None:
        # The entry holds the execution, so its id names no other object while the entry is kept.
        self._pages[(id(execution), _node_key(node), customer_id)] = (execution, completed)

    def take(self, execution: object, node: FieldNode, customer_id: str) -> Any:
        """The page completed in this execution for this node and customer (once), or None."""
        found = self._pages.pop((id(execution), _node_key(node), customer_id), None)
        return None if found is None else found[1]


def _node_key(node: FieldNode) -> int:
    # Its place in the document: the executor's plans and the pipelines' selections are cached apart, so
    # each may hold the nodes of a different parse of the same text.
    return node.loc.start if node.loc is not None else id(node)


@dataclass(frozen=True, slots=True)
class Loaders:
    """The loaders of one request; never shared between requests, so nothing leaks across callers."""

    customers: Loader[str, Customer | None]
    employees: Loader[str, Employee | None]
    transactions: RecordLoaders[Transaction]
    interactions: RecordLoaders[Interaction]
    cases: RecordLoaders[Case]
    feedback: RecordLoaders[Feedback]
    opportunities: RecordLoaders[Opportunity]
    metrics: Loader[str, CustomerMetrics | None]
    alerts: RecordLoaders[Alert]
    alerts_by_feedback: Loader[str, Alert | None]
    standings: Loader[str, Standing | None]
    completed: CompletedPages

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

        async def standings(customer_ids: Sequence[str]) -> dict[str, Standing]:
            return {
                c: stored.standing for c, stored in (await repos.standings.get_many(customer_ids)).items()
            }

        wave = PageWave()
        return cls(
            customers=customers,
            # References to staff come in waves (owners, then the employees of the records shown): each
            # wave is one command whatever an earlier wave read, so what a document costs does not depend
            # on which employees its records happen to share (``customers(first: 50)`` costs ``first: 1``).
            employees=batch_by_id(repos.employees.get_many, cache=False),
            transactions=RecordLoaders.of("transactions", repos.transactions, wave),
            interactions=RecordLoaders.of("interactions", repos.interactions, wave),
            cases=RecordLoaders.of("cases", repos.cases, wave),
            feedback=RecordLoaders.of("feedback", repos.feedback, wave),
            opportunities=RecordLoaders.of("opportunities", repos.opportunities, wave),
            metrics=batch_by_id(metrics),
            alerts=RecordLoaders.of("alerts", repos.alerts, wave),
            alerts_by_feedback=batch_by_id(repos.alerts.by_feedback),
            standings=batch_by_id(standings),
            completed=CompletedPages(),
        )
