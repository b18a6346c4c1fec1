"""The typed context every resolver receives, and the settings the GraphQL layer runs with."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from auth.principal import Principal
from domain.audit.models import AuditCollector
from domain.errors import Unauthenticated
from domain.events import EventSource
from domain.repositories import Repositories
from domain.scope import RowScope
from domain.store import UnitOfWork
from domain.tactical.service import NoWindowChecks, WindowChecks
from resolvers.cost.budget import CostBudget
from resolvers.loaders import Loaders


@dataclass(frozen=True, slots=True)
class GraphQLSettings:
    """The part of the server's configuration that queries, limits and aggregates need."""

    max_page_size: int
    max_depth: int
    max_aliases: int
    max_tokens: int
    # Cost: object 1, connection 2 + first (times its nodes' cost), root mutation field a fixed cost.
    max_cost: int
    mutation_cost: int
    cost_budget_per_minute: int
    introspection_enabled: bool
    # "Did you mean ...?" in validation errors, over every transport.
    field_suggestions_enabled: bool
    # The fewest distinct customers a shown aggregate bucket may have.
    aggregate_min_customers: int
    # Root fields returning customers read their whole selection in one pipeline (resolvers/pipeline).
    compiled_pipelines: bool = True


# The time limit of the query or mutation this task runs (the event loop's clock), for a transport that runs
# many operations on one connection's context and so sets it here (the WebSocket connection, in
# api/http/websocket.py); ``Context.for_operation`` takes it.
OPERATION_DEADLINE: ContextVar[float | None] = ContextVar("operation_deadline", default=None)


@dataclass
class Context:
    """One request: who asks, its loaders, the repositories and the settings."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    # None only on a WebSocket whose connection_init has not proved who it is yet: it may read nothing.
    caller: Principal | None
    settings: GraphQLSettings
    repos: Repositories
    # The same repositories limited to what the caller may aggregate over (which differs from its rows:
    # the board aggregates the whole company but reads no record).
    aggregate_repos: Repositories
    loaders: Loaders
    request_id: str
    uow: UnitOfWork
    events: EventSource
    row_scope: RowScope
    cost_budget: CostBudget
    # Where intake reports stored responses, so their touchpoint's window is checked soon.
    window_checks: WindowChecks = field(default_factory=NoWindowChecks)
    audit: AuditCollector = field(default_factory=AuditCollector)
    connection_params: dict[str, object] | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    # When the request's time limit stops it, on the event loop's clock (None: no limit, as a subscription).
    deadline: float | None = None
    # Whether root fields returning customers read their whole selection in one pipeline: only while the
    # compiled executor runs a query's plan (its stock retry, mutations and subscriptions use the loaders).
    pipelines: bool = False

    def for_operation(self) -> Context:
        """This context for one operation of a connection that runs many: the same caller, rows and
        connection, with loaders, audit, clock, time limit and executor flags of its own."""
        return replace(
            self,
            loaders=Loaders.create(self.repos),
            audit=AuditCollector(),
            now=datetime.now(UTC),
            deadline=OPERATION_DEADLINE.get(),
            pipelines=False,
        )

    @property
    def principal(self) -> Principal:
        """The authenticated caller; an unauthenticated context may do nothing at all."""
        if self.caller is None:
            raise Unauthenticated("authenticate first")
        return self.caller


Info = strawberry.Info[Context, None]
