"""The customer type: profile, the customer's records, timeline and metrics."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated

import strawberry

from auth.policy import timeline_kinds
from domain.customers import models as cm
from domain.customers.metrics import CustomerMetrics as DomainMetrics
from domain.errors import NotFound
from domain.paging import Page
from domain.timeline import Record, TimelineCursor, merge, selected_kinds
from resolvers import references
from resolvers.context import Info
from resolvers.customers.connections import (
    CaseConnection,
    CustomerAlertConnection,
    FeedbackConnection,
    InteractionConnection,
    OpportunityConnection,
    TimelineConnection,
    TimelineEdge,
    TransactionConnection,
    records_field,
)
from resolvers.employees.types import Employee
from resolvers.enums import CustomerStatus, Segment, Tier, TimelineKind
from resolvers.loaders import PageKey
from resolvers.money import Money
from resolvers.node import Node
from resolvers.pagination import AfterArg, Connection, FirstArg, PageInfo, page_size
from resolvers.record_kinds import RECORD_KINDS
from resolvers.standing.types import Standing


@strawberry.type(description="A postal address.")
class Address:
    street: str | None = strawberry.field(description="Street and number; null where masked.")
    city: str = strawberry.field(description="City.")
    postal_code: str = strawberry.field(description="Postal code.")
    country: str = strawberry.field(description="ISO 3166 country code.")


@strawberry.type(description="The customer's id in another system.")
class ExternalId:
    system: str = strawberry.field(description="The other system, e.g. crm, shop or billing.")
    id: str = strawberry.field(description="The id there.")


@strawberry.type(description="What the customer agreed to be contacted by.")
class Consent:
    email: bool = strawberry.field(description="Contact by e-mail.")
    sms: bool = strawberry.field(description="Contact by text message.")
    phone: bool = strawberry.field(description="Contact by phone.")
    marketing: bool = strawberry.field(description="Marketing messages.")


@strawberry.type(description="Headline experience and relationship figures of one customer.")
class CustomerMetrics:
    responses: int = strawberry.field(description="Feedback responses given.")
    last_nps: int | None = strawberry.field(
        description="NPS score (0-10) of the latest response that has one."
    )
    csat_mean: float | None = strawberry.field(description="Mean CSAT (1-5) over all responses.")
    satisfaction_index: float | None = strawberry.field(
        description="Mean of the responses' satisfaction indices (perception / expectation; 1.0 = met)."
    )
    open_cases: int = strawberry.field(description="Cases open or in progress.")
    lifetime_value: Money = strawberry.field(description="Lifetime value of the customer.")
    last_contact_at: datetime | None = strawberry.field(
        description="Latest interaction, case or feedback of the customer."
    )
    days_since_last_contact: int | None = strawberry.field(description="Whole days since the last contact.")

    @classmethod
    def of(cls, metrics: DomainMetrics, now: datetime) -> CustomerMetrics:
        return cls(
            responses=metrics.responses,
            last_nps=metrics.last_nps,
            csat_mean=metrics.csat_mean,
            satisfaction_index=metrics.satisfaction_index,
            open_cases=metrics.open_cases,
            lifetime_value=Money.of(metrics.lifetime_value),
            last_contact_at=metrics.last_contact_at,
            days_since_last_contact=metrics.days_since_last_contact(now),
        )


KindsArg = Annotated[
    list[TimelineKind] | None,
    strawberry.argument(description="Kinds of record to include; all kinds when omitted."),
]


@strawberry.type(
    description="A customer: who they are, how they relate to the company, and what they did with it."
)
class Customer(Node):
    given_name: str = strawberry.field(description="Given name.")
    family_name: str = strawberry.field(description="Family name.")
    display_name: str = strawberry.field(description="Full name as shown to staff.")
    emails: list[str] = strawberry.field(description="E-mail addresses, preferred first.")
    phones: list[str] = strawberry.field(description="Phone numbers, preferred first.")
    address: Address | None = strawberry.field(description="Postal address.")
    birth_date: date | None = strawberry.field(description="Date of birth; null where hidden.")
    birth_year: int | None = strawberry.field(description="Year of birth.")
    external_ids: list[ExternalId] = strawberry.field(description="Ids of the customer in other systems.")
    segment: Segment = strawberry.field(description="Commercial segment.")
    tier: Tier = strawberry.field(description="Loyalty tier.")
    region: str = strawberry.field(description="Region the customer is served from.")
    status: CustomerStatus = strawberry.field(description="Active or churned.")
    lifetime_value: Money = strawberry.field(description="Lifetime value.")
    consent: Consent = strawberry.field(description="Contact consent.")
    tags: list[str] = strawberry.field(description="Free tags.")
    created_at: datetime = strawberry.field(description="When the profile was created.")
    updated_at: datetime = strawberry.field(description="When the profile last changed.")
    owner_id: strawberry.Private[str | None]

    @strawberry.field(description="The employee accountable for this customer.")
    async def owner(self, info: Info) -> Employee | None:
        return await references.employee(info, self.owner_id)

    transactions: TransactionConnection = records_field(
        TimelineKind.TRANSACTION, TransactionConnection, "The customer's transactions, newest first."
    )
    interactions: InteractionConnection = records_field(
        TimelineKind.INTERACTION, InteractionConnection, "The customer's interactions, newest first."
    )
    cases: CaseConnection = records_field(
        TimelineKind.CASE, CaseConnection, "The customer's cases, newest first."
    )
    feedback: FeedbackConnection = records_field(
        TimelineKind.FEEDBACK, FeedbackConnection, "The customer's feedback, newest first."
    )
    opportunities: OpportunityConnection = records_field(
        TimelineKind.OPPORTUNITY, OpportunityConnection, "The customer's opportunities, newest first."
    )
    alerts: CustomerAlertConnection = records_field(
        TimelineKind.ALERT,
        CustomerAlertConnection,
        "Alerts raised by the customer's experiences, newest first.",
    )

    @strawberry.field(
        description="Everything the customer did with the company, all kinds merged, newest first."
    )
    async def timeline(
        self, info: Info, first: FirstArg, after: AfterArg = None, kinds: KindsArg = None
    ) -> TimelineConnection:
        limit = page_size(first, info.context.settings.max_page_size)
        cursor = TimelineCursor.decode(after) if after is not None else None
        # Only kinds whose time the caller sees: the order and the cursors compare those times.
        readable = timeline_kinds(info.context.principal.role)
        kinds_shown = [kind for kind in selected_kinds(kinds) if kind in readable]
        loaded = await asyncio.gather(
            *(
                RECORD_KINDS[kind]
                .loaders(info.context.loaders)
                .pages.load(self._timeline_key(limit, cursor, kind))
                for kind in kinds_shown
            )
        )
        pages: dict[TimelineKind, Page[Record]] = dict(zip(kinds_shown, loaded, strict=True))
        merged = merge(pages, first=limit)
        edges = [
            TimelineEdge(cursor=e.cursor(), node=RECORD_KINDS[e.kind].view(e.record)) for e in merged.items
        ]
        return TimelineConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=merged.has_next),
        )

    def _timeline_key(self, limit: int, cursor: TimelineCursor | None, kind: TimelineKind) -> PageKey:
        if cursor is None:
            return PageKey(self.record_id, limit)
        return PageKey(self.record_id, limit, cursor.position, cursor.ties_for(kind))

    @strawberry.field(
        description=(
            "How urgently to contact the customer and the next best action, with the reasons; null until "
            "first worked out (moments after the customer's first record)."
        )
    )
    async def standing(self, info: Info) -> Standing | None:
        found = await info.context.loaders.standings.load(self.record_id)
        return Standing.of(found) if found is not None else None

    @strawberry.field(description="Headline experience and relationship figures.")
    async def metrics(self, info: Info) -> CustomerMetrics:
        found = await info.context.loaders.metrics.load(self.record_id)
        if found is None:
            raise NotFound("the customer no longer exists")
        return CustomerMetrics.of(found, info.context.now)

    @classmethod
    def of(cls, customer: cm.Customer) -> Customer:
        address = customer.address
        consent = customer.consent
        return cls(
            record_id=customer.id,
            given_name=customer.given_name,
            family_name=customer.family_name,
            display_name=customer.display_name,
            emails=list(customer.emails),
            phones=list(customer.phones),
            address=(
                Address(
                    street=address.street,
                    city=address.city,
                    postal_code=address.postal_code,
                    country=address.country,
                )
                if address
                else None
            ),
            birth_date=customer.birth_date,
            birth_year=customer.birth_date.year if customer.birth_date else None,
            external_ids=[ExternalId(system=e.system, id=e.id) for e in customer.external_ids],
            segment=customer.segment,
            tier=customer.tier,
            region=customer.region,
            status=customer.status,
            lifetime_value=Money.of(customer.lifetime_value),
            consent=Consent(
                email=consent.email, sms=consent.sms, phone=consent.phone, marketing=consent.marketing
            ),
            tags=list(customer.tags),
            created_at=customer.created_at,
            updated_at=customer.updated_at,
            owner_id=customer.owner_id,
        )


@strawberry.type(description="A page of customers in name order.")
class CustomerConnection(Connection[Customer]):
    pass
