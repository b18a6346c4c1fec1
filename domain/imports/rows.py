"""Import rows as domain objects: customers, and transactions and interactions waiting for their customer."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from domain.crm.models import Direction, Interaction, InteractionKind, LineItem, SalesChannel, Transaction
from domain.customers.models import (
    Address,
    Consent,
    Customer,
    CustomerStatus,
    ExternalId,
    Segment,
    Tier,
)
from domain.imports import fields as f
from domain.imports.fields import Row, RowError
from domain.money import Money

R = TypeVar("R", Transaction, Interaction)


class ImportKind(StrEnum):
    """What a file holds."""

    CUSTOMERS = "customers"
    TRANSACTIONS = "transactions"
    INTERACTIONS = "interactions"


CUSTOMER_FIELDS = frozenset(
    {
        "externalId", "givenName", "familyName", "emails", "phones", "street", "city", "postalCode",
        "country", "birthDate", "segment", "tier", "region", "ownerId", "status", "lifetimeValue", "currency",
        "consentEmail", "consentSms", "consentPhone", "consentMarketing", "tags",
    }
)  # fmt: skip
TRANSACTION_FIELDS = frozenset(
    {"externalId", "customerExternalId", "amount", "currency", "channel", "touchpoint", "occurredAt", "items"}
)
INTERACTION_FIELDS = frozenset(
    {
        "externalId", "customerExternalId", "kind", "direction", "channel", "employeeId", "summary",
        "occurredAt", "nextStep", "followUpOn",
    }
)  # fmt: skip
FIELDS = {
    ImportKind.CUSTOMERS: CUSTOMER_FIELDS,
    ImportKind.TRANSACTIONS: TRANSACTION_FIELDS,
    ImportKind.INTERACTIONS: INTERACTION_FIELDS,
}


@dataclass(frozen=True, slots=True)
class Pending(Generic[R]):
    """A record whose customer is known only by its external id; ``for_customer`` completes it."""

    record: R
    customer: ExternalId

    def for_customer(self, customer: Customer) -> R:
        return replace(self.record, customer_id=customer.id, region=customer.region)


def _external(row: Row, name: str, source: str) -> ExternalId:
    return ExternalId(source, f.required_text(row, name, max_length=200))


def customer_from_row(row: Row, *, source: str, now: datetime, new_id: str) -> Customer:
    """A new customer as the row describes it; upserting keeps the id, history and other external ids."""
    f.no_operators(row)
    f.only_fields(row, CUSTOMER_FIELDS)
    address_parts = [f.text(row, n, required=False) for n in ("street", "city", "postalCode", "country")]
    if any(address_parts) and not all(address_parts[1:]):
        raise RowError("address: city, postalCode and country are needed together")
    street, city, postal_code, country = address_parts
    return Customer(
        id=new_id,
        given_name=f.required_text(row, "givenName", max_length=200),
        family_name=f.required_text(row, "familyName", max_length=200),
        emails=_emails(row),
        phones=f.texts(row, "phones"),
        address=Address(street or "", city or "", postal_code or "", country or "") if city else None,
        birth_date=f.day(row, "birthDate"),
        external_ids=(_external(row, "externalId", source),),
        segment=f.choice(row, "segment", Segment, Segment.MASS),
        tier=f.choice(row, "tier", Tier, Tier.BRONZE),
        region=f.required_text(row, "region", max_length=100),
        owner_id=f.record_id(row, "ownerId"),
        status=f.choice(row, "status", CustomerStatus, CustomerStatus.ACTIVE),
        lifetime_value=(
            f.money(row, "lifetimeValue", "currency", default_currency="EUR")
            if row.get("lifetimeValue") not in (None, "")
            else Money(0, (f.text(row, "currency", required=False) or "EUR").upper())
        ),
        consent=Consent(
            email=f.flag(row, "consentEmail"),
            sms=f.flag(row, "consentSms"),
            phone=f.flag(row, "consentPhone"),
            marketing=f.flag(row, "consentMarketing"),
        ),
        tags=f.texts(row, "tags"),
        created_at=now,
        updated_at=now,
        version=1,
    )


def _emails(row: Row) -> tuple[str, ...]:
    emails = f.texts(row, "emails")
    for email in emails:
        local, at, domain = email.partition("@")
        if not (local and at and "." in domain):
            raise RowError(f"emails: {email!r} is not an e-mail address")
    return tuple(e.lower() for e in emails)


def transaction_from_row(row: Row, *, source: str, new_id: str) -> Pending[Transaction]:
    f.no_operators(row)
    f.only_fields(row, TRANSACTION_FIELDS)
    transaction = Transaction(
        id=new_id,
        customer_id="",
        region="",
        amount=f.money(row, "amount", "currency"),
        items=_items(row),
        channel=f.choice(row, "channel", SalesChannel),
        touchpoint=f.required_text(row, "touchpoint", max_length=100),
        occurred_at=f.moment(row, "occurredAt"),
        external_id=_external(row, "externalId", source),
    )
    return Pending(transaction, _external(row, "customerExternalId", source))


def _items(row: Row) -> tuple[LineItem, ...]:
    value = row.get("items")
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise RowError("items: not a JSON array") from None
    if not isinstance(value, list):
        raise RowError("items: must be a list of {sku, name, quantity, unitPrice}")
    items = []
    currency = f.required_text(row, "currency")
    for n, item in enumerate(value):
        if not isinstance(item, dict):
            raise RowError(f"items.{n}: must be an object")
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise RowError(f"items.{n}.quantity: must be a whole number of at least 1")
        unit_price = Money(f.minor_units(item.get("unitPrice"), f"items.{n}.unitPrice"), currency.upper())
        sku = f.required_text(item, "sku", max_length=100)
        items.append(LineItem(sku, f.required_text(item, "name", max_length=200), quantity, unit_price))
    return tuple(items)


def interaction_from_row(row: Row, *, source: str, new_id: str) -> Pending[Interaction]:
    f.no_operators(row)
    f.only_fields(row, INTERACTION_FIELDS)
    interaction = Interaction(
        id=new_id,
        customer_id="",
        region="",
        kind=f.choice(row, "kind", InteractionKind),
        direction=f.choice(row, "direction", Direction),
        channel=f.required_text(row, "channel", max_length=100),
        employee_id=f.record_id(row, "employeeId"),
        summary=f.required_text(row, "summary", max_length=5000),
        occurred_at=f.moment(row, "occurredAt"),
        next_step=f.text(row, "nextStep", required=False, max_length=1000),
        follow_up_on=f.day(row, "followUpOn"),
        external_id=_external(row, "externalId", source),
    )
    return Pending(interaction, _external(row, "customerExternalId", source))


@dataclass(frozen=True, slots=True)
class Upserted:
    """What one upsert by external id did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: Upserted) -> Upserted:
        return Upserted(
            self.created + other.created, self.updated + other.updated, self.unchanged + other.unchanged
        )
