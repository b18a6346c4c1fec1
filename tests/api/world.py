"""A small world for access tests: a customer with every kind of record in each of two regions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from auth.principal import Role
from domain.alerts.models import AlertReason, Contribution, Reply, TacticalBreach
from domain.alerts.rules import plan, raise_alert, raise_tactical, resolve
from domain.crm.models import CaseStatus, CustomerNotice
from domain.customers.models import Customer
from domain.feedback.models import Touchpoint
from domain.repositories import Repositories
from domain.root_cause import RootCause
from domain.standards.models import TargetMetric, WindowTargets, default_standard
from domain.store import UnitOfWork
from resolvers.node import encode_global_id
from tests import factories as f


@dataclass(frozen=True)
class Region:
    """One region's customer and the global ids of its records."""

    customer: Customer
    ids: dict[str, str]

    @property
    def customer_id(self) -> str:
        return self.ids["Customer"]


@dataclass(frozen=True)
class World:
    north: Region
    south: Region
    tokens: dict[Role, str]


async def build_world(repos: Repositories, token: Any, uow: UnitOfWork) -> World:
    """Customers in north and south with owner, transaction, interaction, case, feedback, opportunity, and
    their standings."""
    regions = []
    for name in ("north", "south"):
        staff = f.employee(regions=(name,))
        customer = f.customer(
            region=name,
            given_name="Jane",
            family_name=f"Doe-{name}",
            emails=(f"jane.{name}@example.com",),
            owner_id=staff.id,
            tags=("vip",),
        )
        records = {
            "Transaction": f.transaction(customer),
            "Interaction": f.interaction(
                customer, employee_id=staff.id, next_step="Call back", follow_up_on=f.NOW.date()
            ),
            "Case": f.case(
                customer,
                assignee_id=staff.id,
                status=CaseStatus.RESOLVED,
                resolution="Refunded",
                customer_notified=CustomerNotice(f.NOW, "email"),
                root_cause=RootCause("damaged-in-transit", "delivery", "Crushed box", f.NOW, staff.id),
            ),
            "Feedback": f.feedback(customer, nps=2, comment="Too slow."),
            "Opportunity": f.opportunity(customer, owner_id=staff.id),
        }
        await repos.employees.insert_many([staff])
        await repos.customers.insert_many([customer])
        await repos.transactions.insert_many([records["Transaction"]])
        await repos.interactions.insert_many([records["Interaction"]])
        await repos.cases.insert_many([records["Case"]])
        await repos.feedback.insert_many([records["Feedback"]])
        await repos.rollups.add(records["Feedback"])
        await repos.opportunities.insert_many([records["Opportunity"]])
        alert = resolve(
            raise_alert(
                alert_id=f.next_id(),
                customer_id=customer.id,
                region=name,
                standard=default_standard(name, Touchpoint.DELIVERY),
                reasons=(AlertReason.LOW_NPS,),
                assignee_id=staff.id,
                # Raised the day before (in October), like the feedback that raised it.
                now=f.NOW - timedelta(days=1),
                by=customer.id,
                feedback_id=records["Feedback"].id,
            ),
            by=staff.id,
            now=f.NOW,
            resolution="Refunded",
            reply=Reply("Sorry, refunded.", "EMAIL", f.NOW),
        )
        await repos.alerts.insert(alert)
        ids = {kind: encode_global_id(kind, record.id) for kind, record in records.items()}
        ids["Alert"] = encode_global_id("Alert", alert.id)
        ids["Customer"] = encode_global_id("Customer", customer.id)
        ids["Employee"] = encode_global_id("Employee", staff.id)
        regions.append(Region(customer, ids))
    north, south = regions
    await _tactical(repos)
    await _frontline_own(repos, north.customer)
    await f.derive(repos, uow, [north.customer, south.customer])
    tokens = {
        Role.FRONTLINE: token(Role.FRONTLINE, sub="agent-north", regions=["north"]),
        Role.MANAGER: token(Role.MANAGER, sub="manager-north", regions=["north"]),
        Role.BOARD: token(Role.BOARD, sub="board-member"),
        Role.CUSTOMER: token(Role.CUSTOMER, sub=north.customer.id),
        Role.INTEGRATION: token(Role.INTEGRATION, sub="crm-sync"),
        Role.BI: token(Role.BI, sub="dashboard"),
    }
    return World(north, south, tokens)


async def _tactical(repos: Repositories) -> None:
    """North's store visits have window targets, and north's deliveries a resolved tactical alert with a plan.

    The alert is assigned to the north frontline token's subject, so frontline sees it too, and it is the
    first resolved alert of north's queue (its plan's due date comes first).
    """
    standard = replace(
        default_standard("north", Touchpoint.STORE_VISIT),
        window=WindowTargets(window_days=7, min_responses=1, nps_at_least=20),
        updated_at=f.NOW - timedelta(days=60),
        updated_by="manager-north",
        version=1,
    )
    await repos.standards.save(standard, read_version=0)
    raised = f.NOW - timedelta(days=3)
    breach = TacticalBreach(
        metric=TargetMetric.NPS,
        figure=-12.5,
        target=20,
        window_days=7,
        window_first=(raised - timedelta(days=6)).date(),
        window_last=raised.date(),
        responses=40,
        standard_version=1,
        worst=(Contribution("channel", "APP", 30, -40.0, -18.25),),
    )
    alert = raise_tactical(
        alert_id=f.next_id(),
        region="north",
        standard=default_standard("north", Touchpoint.DELIVERY),
        breach=breach,
        assignee_id="agent-north",
        now=raised,
    )
    alert = plan(
        alert, by="manager-north", now=raised, text="Retrain the couriers", due_at=raised + timedelta(days=1)
    )
    reply = Reply("Couriers retrained.", "EMAIL", raised + timedelta(hours=5))
    # A tactical alert may carry a root cause too (recurring issues leave it out); the viewer walk reads it.
    cause = RootCause(
        "untrained-staff", "staff", "Couriers missed the new process", reply.at, "manager-north"
    )
    alert = resolve(
        alert, by="manager-north", now=reply.at, resolution="Retrained", reply=reply, root_cause=cause
    )
    await repos.alerts.insert(alert)


async def _frontline_own(repos: Repositories, customer: Customer) -> None:
    """Operational alerts the north frontline token's subject handled in October (its own loop row): one
    raised on the 30th and five the day before (their deadlines after the tactical alert's), each resolved on
    the 30th with a carrier delay: a cause that rose that week, so the digest of the 30th shows it rising."""
    october_30 = f.NOW - timedelta(days=2)
    handled = [(october_30, october_30 + timedelta(hours=3))]
    handled += [(october_30 - timedelta(hours=23 - n), october_30 - timedelta(hours=4 - n)) for n in range(5)]
    for raised, done in handled:
        alert = raise_alert(
            alert_id=f.next_id(),
            customer_id=customer.id,
            region="north",
            standard=default_standard("north", Touchpoint.DELIVERY),
            reasons=(AlertReason.LOW_NPS,),
            assignee_id="agent-north",
            now=raised,
            by=customer.id,
        )
        reply = Reply("Sorry, it is on its way.", "SMS", done)
        cause = RootCause("carrier-delay", "delivery", "The parcel sat at the depot", done, "agent-north")
        resolved = resolve(
            alert, by="agent-north", now=done, resolution="Chased", reply=reply, root_cause=cause
        )
        await repos.alerts.insert(resolved)
