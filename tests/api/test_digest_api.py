"""The digest through the endpoint, and pushed once a day per region over WebSocket (Python gql)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from api.settings import Settings
from api.storage.client import MongoUnitOfWork
from auth.principal import Role
from domain.alerts.models import AlertReason
from domain.alerts.rules import raise_alert
from domain.digest.service import publish_digests
from domain.employees.models import EmployeeRole
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.standards.models import default_standard
from tests import factories as f
from tests.conftest import GraphQLClient

DIGEST = """query($date: Date) { digest(date: $date) {
  date regions newAlertCount newAlerts(first: 5) { region } breaches { metric } resolvedCount } }"""
PUSHED = "subscription { digestPublished { date regions newAlertCount } }"
DEADLINE = 30.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests publish digests themselves: the server's own sweep waits an hour after its first round."""
    return settings.model_copy(update={"escalation_sweep_seconds": 3600})


async def yesterday_alerts(repos: Repositories) -> datetime:
    """An alert in north and two in south, raised yesterday (UTC); returns yesterday's noon."""
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    for region in ("north", "south", "south"):
        await repos.alerts.insert(
            raise_alert(
                alert_id=f.next_id(),
                customer_id=f.next_id(),
                region=region,
                standard=default_standard(region, Touchpoint.DELIVERY),
                reasons=(AlertReason.LOW_NPS,),
                assignee_id=None,
                now=noon,
                by="test",
            )
        )
    return noon


async def test_the_digest_of_a_day_for_each_role(
    http: httpx.AsyncClient, token: Any, repos: Repositories
) -> None:
    noon = await yesterday_alerts(repos)
    manager = GraphQLClient(http, token(Role.MANAGER, regions=["north"]))
    body = (await manager.execute(DIGEST))["data"]["digest"]
    assert body == {
        "date": noon.date().isoformat(),
        "regions": ["north"],
        "newAlertCount": 1,
        "newAlerts": [{"region": "north"}],
        "breaches": [],
        "resolvedCount": 0,
    }
    frontline = GraphQLClient(http, token(Role.FRONTLINE, regions=["south"]))
    assert (await frontline.execute(DIGEST))["data"]["digest"]["newAlertCount"] == 2
    today = await manager.result(DIGEST, {"date": datetime.now(UTC).date().isoformat()})
    assert today["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "date"}
    for role in (Role.BOARD, Role.BI, Role.CUSTOMER, Role.INTEGRATION):
        refused = await GraphQLClient(http, token(role)).result(DIGEST)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_each_region_gets_its_digest_pushed_once(
    live_server: str, token: Any, repos: Repositories, uow: MongoUnitOfWork
) -> None:
    await repos.employees.insert_many(
        [f.employee(regions=("north",)), f.employee(regions=("south",), role=EmployeeRole.MANAGER)]
    )
    noon = await yesterday_alerts(repos)
    transport = WebsocketsTransport(
        url=live_server.replace("http://", "ws://") + "/graphql",
        init_payload={"Authorization": f"Bearer {token(Role.MANAGER, regions=['south'])}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    async with Client(transport=transport, execute_timeout=DEADLINE) as session:
        pushed = session.subscribe(GraphQLRequest(PUSHED))
        first = asyncio.create_task(anext(pushed))
        try:
            await _wait_for_subscription(live_server)
            rounds = await asyncio.gather(
                *(publish_digests(repos, uow, now=noon + timedelta(hours=13)) for _ in range(2))
            )
            event = await asyncio.wait_for(first, DEADLINE)
        finally:
            first.cancel()
            await pushed.aclose()
    assert sorted(d.regions[0] for r in rounds for d in r) == ["north", "south"]
    assert event == {
        "digestPublished": {"date": noon.date().isoformat(), "regions": ["south"], "newAlertCount": 2}
    }


async def _wait_for_subscription(url: str) -> None:
    until = asyncio.get_running_loop().time() + DEADLINE
    async with httpx.AsyncClient(base_url=url) as http:
        while asyncio.get_running_loop().time() < until:
            if (await http.get("/healthz")).json()["subscriptions"] >= 1:
                return
            await asyncio.sleep(0.05)
    pytest.fail("the subscription was not registered")
