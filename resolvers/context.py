"""The typed context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from api.settings import Settings
from auth.principal import Principal
from domain.audit.models import AuditCollector
from domain.events import EventSource
from domain.repositories import Repositories
from domain.scope import RowScope
from domain.store import UnitOfWork
from resolvers.loaders import Loaders


@dataclass
class Context:
    """One request: who asks, its loaders, the repositories and the settings."""

    request: Request | WebSocket
    response: Response | WebSocket | None
    principal: Principal
    settings: Settings
    repos: Repositories
    # The same repositories limited to what the caller may aggregate over (which differs from its rows:
    # the board aggregates the whole company but reads no record).
    insight: Repositories
    loaders: Loaders
    request_id: str
    uow: UnitOfWork
    events: EventSource
    scope: RowScope
    audit: AuditCollector = field(default_factory=AuditCollector)
    connection_params: dict[str, object] | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


Info = strawberry.Info[Context, None]
