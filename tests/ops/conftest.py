"""Operations tests: an app whose database commands are counted per request id."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import monitoring

from api.http.observability import REQUEST_ID
from api.settings import Settings
from auth.principal import Role
from tests.conftest import client_for


@dataclass
class RequestCommands(monitoring.CommandListener):
    """The commands sent on behalf of each request, told apart by the request id they ran under.

    Background loops (change feed, sweeps, the database watch) run under no request id, so they never
    count against a request.
    """

    by_request: Counter[str] = field(default_factory=Counter)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        request_id = REQUEST_ID.get()
        if request_id is not None:
            self.by_request[request_id] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def of(self, response: httpx.Response) -> int:
        return self.by_request[response.headers["x-request-id"]]


@pytest.fixture
def request_commands() -> RequestCommands:
    return RequestCommands()


@pytest.fixture
def app_client(
    settings: Settings, request_commands: RequestCommands
) -> Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]:
    """``async with app_client(**overrides) as http``: an in-process client of an app so configured."""

    def make(**overrides: Any) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
        return client_for(Settings(**{**settings.model_dump(), **overrides}), request_commands)

    return make


@pytest.fixture
def bearer(token: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(Role.FRONTLINE)}"}
