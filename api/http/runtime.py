"""What the running application shares between requests, in one typed object built in its lifespan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

from api.http.persisted import PersistedDocuments
from api.http.prometheus import Metrics
from api.settings import Settings
from api.storage.availability import DatabaseWatch
from api.storage.change_feed import ChangeFeed
from api.storage.client import Client, MongoUnitOfWork
from api.storage.intake_checks import IntakeChecks
from auth.tokens import TokenVerifier
from domain.paging import PageEnds
from domain.store import Database
from resolvers.context import GraphQLSettings
from resolvers.cost.budget import CostBudget

if TYPE_CHECKING:
    from api.http.tracing import OperationTracing


@dataclass(frozen=True, slots=True)
class Runtime:
    """The settings, the database connection and the process-wide services every request uses."""

    settings: Settings
    graphql: GraphQLSettings
    verifier: TokenVerifier
    metrics: Metrics
    cost_budget: CostBudget
    persisted: PersistedDocuments
    client: Client
    db: Database
    uow: MongoUnitOfWork
    feed: ChangeFeed
    watch: DatabaseWatch
    window_checks: IntakeChecks
    # Where pages of the customer list ended, for every request's repositories to bound their next read.
    page_ends: PageEnds
    # A span per GraphQL operation; None (and nothing imported) unless tracing is configured.
    tracing: OperationTracing | None = None


def runtime_of(connection: HTTPConnection) -> Runtime:
    """The runtime of the application serving ``connection`` (set when its lifespan starts)."""
    runtime = connection.app.state.runtime
    if not isinstance(runtime, Runtime):
        raise RuntimeError("the application has not started: its lifespan sets the runtime")
    return runtime
