"""The customer profile and its parts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from domain.customers.search import WordKind
from domain.money import Money


class Segment(StrEnum):
    """Commercial segment a customer belongs to."""

    MASS = "MASS"
    AFFLUENT = "AFFLUENT"
    SMALL_BUSINESS = "SMALL_BUSINESS"
    CORPORATE = "CORPORATE"


class Tier(StrEnum):
    """Loyalty tier."""

    BRONZE = "BRONZE"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"


class CustomerStatus(StrEnum):
    """Whether the customer is still a customer."""

    ACTIVE = "ACTIVE"
    CHURNED = "CHURNED"


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address."""

    street: str
    city: str
    postal_code: str
    country: str


@dataclass(frozen=True, slots=True)
class ExternalId:
    """The customer's id in another system (CRM, shop, billing...)."""

    system: str
    id: str


@dataclass(frozen=True, slots=True)
class Consent:
    """What the customer agreed to be contacted by."""

    email: bool = False
    sms: bool = False
    phone: bool = False
    marketing: bool = False


@dataclass(frozen=True, slots=True)
class Customer:
    """Who the customer is and how the company relates to them."""

    id: str
    given_name: str
    family_name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    address: Address | None
    birth_date: date | None
    external_ids: tuple[ExternalId, ...]
    segment: Segment
    tier: Tier
    region: str
    owner_id: str | None
    status: CustomerStatus
    lifetime_value: Money
    consent: Consent
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    version: int
    # When the customer became churned (None while active): churn by period counts it in that period.
    churned_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def churn_dated(self, before: Customer | None, now: datetime) -> Customer:
        """This customer with its churn date: kept from ``before`` while churned, else ``now`` if churned."""
        if self.status is CustomerStatus.ACTIVE:
            return replace(self, churned_at=None)
        if before is not None and before.status is CustomerStatus.CHURNED and before.churned_at is not None:
            return replace(self, churned_at=before.churned_at)
        return replace(self, churned_at=self.churned_at or now)


@dataclass(frozen=True, slots=True)
class CustomerFilter:
    """Which customers a list shows; empty parts do not filter."""

    regions: tuple[str, ...] = ()
    segments: tuple[Segment, ...] = ()
    status: CustomerStatus | None = None
    owner_id: str | None = None
    tags: tuple[str, ...] = ()
    search: str | None = None
    search_in: frozenset[WordKind] = frozenset(WordKind)  # what the caller may see in full

    @property
    def by_region_only(self) -> bool:
        """Whether only regions filter (besides the caller's scope): the broad lists, holding every customer
        of a region. Any other filter may pick a few customers, which its own index finds."""
        return not (self.segments or self.status or self.owner_id or self.tags or self.search)
