"""Which alerts an employee's scope reads: its regions' (tactical ones for managers only) and its own.

Read with the repository's scope filter, as every query path reads alerts, against the test's database.
"""

from __future__ import annotations

from dataclasses import replace

from api.storage.client import MongoDatabase
from domain.alerts.models import Alert, AlertKind
from domain.alerts.repository import AlertRepository
from domain.customers.models import Customer
from domain.repositories import Repositories
from domain.scope import RowScope, narrowed
from tests import factories as f


def alert(
    customer: Customer, *, assignee: str | None = None, kind: AlertKind = AlertKind.OPERATIONAL
) -> Alert:
    return replace(f.alert(customer, f.feedback(customer, nps=1)), assignee_id=assignee, kind=kind)


async def visible(db: MongoDatabase, scope: RowScope, customer_id: str | None = None) -> set[str]:
    """The ids of the alerts a read in ``scope`` finds, as every repository read adds the scope's filter."""
    query = narrowed({"customerId": customer_id} if customer_id else {}, AlertRepository.scope_filter(scope))
    return {d["_id"] async for d in db["alerts"].find(query, {"_id": 1})}


async def test_an_employee_reads_its_regions_alerts_and_those_assigned_to_it_elsewhere(
    db: MongoDatabase, repos: Repositories
) -> None:
    north, south = f.customer(region="north"), f.customer(region="south")
    await repos.customers.insert_many([north, south])
    ours = alert(north)
    mine_elsewhere = alert(south, assignee="e1")
    theirs = alert(south, assignee="e2")
    tactical_here = alert(north, kind=AlertKind.TACTICAL)
    await repos.alerts.insert_many([ours, mine_elsewhere, theirs, tactical_here])

    frontline = RowScope.of_regions(("north",), employee_id="e1", tactical_alerts=False)
    manager = RowScope.of_regions(("north",), employee_id="e9")
    assert await visible(db, frontline) == {ours.id, mine_elsewhere.id}
    assert await visible(db, manager) == {ours.id, tactical_here.id}
    # Beside a customer id, as a customer's page reads them.
    assert await visible(db, frontline, south.id) == {mine_elsewhere.id}
    assert await visible(db, manager, south.id) == set()


def test_an_employees_alert_filter_has_no_or() -> None:
    # The embedded database reads a whole collection for a filter with an $or, even beside an indexed field.
    scope = RowScope.of_regions(("north", "south"), employee_id="e1", tactical_alerts=False)
    assert "$or" not in AlertRepository.scope_filter(scope)


async def test_alerts_stored_without_scope_keys_get_them_at_start_up(
    db: MongoDatabase, repos: Repositories
) -> None:
    # As an earlier version stored them: no keys, so an employee's scope would not find them.
    north = f.customer(region="north")
    await repos.customers.insert_many([north])
    older = alert(north, assignee="e1")
    await repos.alerts.insert_many([older])
    await db["alerts"].update_one({"_id": older.id}, {"$unset": {"scopeKeys": "", "scopeKeysVersion": ""}})
    frontline = RowScope.of_regions(("south",), employee_id="e1", tactical_alerts=False)
    assert await visible(db, frontline) == set()

    assert await repos.alerts.refresh_scope_keys() == 1
    assert await visible(db, frontline) == {older.id}
    assert await repos.alerts.refresh_scope_keys() == 0


SCOPES = {
    "everything": RowScope.everything(),
    "nothing": RowScope.none(),
    "frontline north": RowScope.of_regions(("north",), employee_id="e1", tactical_alerts=False),
    "manager north": RowScope.of_regions(("north",), employee_id="e2"),
    "manager of both": RowScope.of_regions(("north", "south"), employee_id="e3"),
    "regions without an employee": RowScope.of_regions(("south",)),
    "regions without tactical alerts": RowScope.of_regions(("south",), tactical_alerts=False),
}


async def test_a_pushed_alert_reaches_whoever_reads_it_and_nobody_else(
    db: MongoDatabase, repos: Repositories
) -> None:
    # Subscriptions and handling figures decide in memory (``admits``) what queries decide by the filter:
    # the two must agree for every scope and every alert, or a push shows what a read hides.
    north, south = f.customer(region="north"), f.customer(region="south")
    await repos.customers.insert_many([north, south])
    alerts = [
        alert(customer, assignee=assignee, kind=kind)
        for customer in (north, south)
        for assignee in (None, "e1", "e2", "e9")
        for kind in AlertKind
    ]
    await repos.alerts.insert_many(alerts)
    scopes = {**SCOPES, "customer north": RowScope.of_customer(north.id)}

    for name, scope in scopes.items():
        admitted = {
            a.id
            for a in alerts
            if scope.admits(
                region=a.region,
                customer_id=a.customer_id,
                assignee_id=a.assignee_id,
                tactical=a.kind is AlertKind.TACTICAL,
            )
        }
        assert await visible(db, scope) == admitted, name
