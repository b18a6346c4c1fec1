"""The context of one GraphQL operation, bound to its caller: row scope, repositories and loaders."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from api.http.runtime import Runtime
from auth.policy import aggregate_scope, row_scope
from auth.principal import Principal
from domain.repositories import Repositories
from domain.scope import RowScope
from resolvers.context import Context
from resolvers.loaders import Loaders


def context_for(
    request: Request | WebSocket,
    response: Response | WebSocket | None,
    caller: Principal | None,
    runtime: Runtime,
) -> Context:
    """A fresh context for one operation; without a caller (a WebSocket before its init) it reads nothing."""
    rows, repos, aggregate_repos = _bound(caller, runtime)
    return Context(
        request=request,
        response=response,
        caller=caller,
        settings=runtime.graphql,
        repos=repos,
        aggregate_repos=aggregate_repos,
        loaders=Loaders.create(repos),
        request_id=request.scope["state"]["request_id"],
        uow=runtime.uow,
        events=runtime.feed,
        row_scope=rows,
        cost_budget=runtime.cost_budget,
        window_checks=runtime.window_checks,
    )


def act_as(context: Context, caller: Principal, runtime: Runtime) -> None:
    """Binds ``context`` to ``caller``: every read from now on is limited to its rows."""
    rows, repos, aggregate_repos = _bound(caller, runtime)
    context.caller = caller
    context.row_scope = rows
    context.repos = repos
    context.aggregate_repos = aggregate_repos
    context.loaders = Loaders.create(repos)


def _bound(caller: Principal | None, runtime: Runtime) -> tuple[RowScope, Repositories, Repositories]:
    """The caller's row scope, its repositories and those it aggregates over."""
    if caller is None:
        nothing = Repositories.on(runtime.db, RowScope.none())
        return RowScope.none(), nothing, nothing
    rows = row_scope(caller)
    zones = runtime.settings.rollup_time_zones
    ends = runtime.page_ends
    repos = Repositories.on(runtime.db, rows, rollup_zones=zones, page_ends=ends)
    aggregated = Repositories.on(runtime.db, aggregate_scope(caller), rollup_zones=zones, page_ends=ends)
    return rows, repos, aggregated
