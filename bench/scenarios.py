"""The scenarios: one entry each, with its GraphQL document, per-request variables and reference endpoint.

Adding a scenario is one more ``Scenario`` in ``SCENARIOS``; a mutation gets unique variables per request
from ``variables(data, n)``. The closed loop (``submitFeedback``) and the board dashboard have their own
modules, ``closed_loop`` and ``dashboard``, because they need data sets of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auth.principal import Role
from bench.datasets import DataSet
from resolvers.node import encode_global_id

CUSTOMER_360 = """
query Customer360($id: ID!) {
  customer(id: $id) {
    id displayName emails phones region segment tier status tags
    lifetimeValue { amount currency }
    owner { name email }
    transactions(first: 10) { totalCount edges { node { occurredAt amount { amount currency } channel } } }
    interactions(first: 10) { totalCount edges { node { occurredAt kind summary employee { name } } } }
    cases(first: 10) { totalCount edges { node { openedAt kind status subject severity } } }
    feedback(first: 10) {
      totalCount edges { node { occurredAt touchpoint nps csat satisfactionIndex comment } }
    }
    opportunities(first: 10) { totalCount edges { node { title stage probability amount { amount } } } }
    timeline(first: 20) {
      pageInfo { hasNextPage endCursor }
      edges { node { __typename ... on Feedback { nps comment } ... on Case { subject status } } }
    }
    metrics { responses lastNps csatMean satisfactionIndex openCases daysSinceLastContact }
  }
}
"""

CUSTOMER_LIST = """
query CustomerList($first: Int!) {
  customers(first: $first) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id displayName segment tier region
      owner { name }
      transactions(first: 3) { totalCount edges { node { occurredAt amount { amount currency } } } }
      interactions(first: 3) { edges { node { occurredAt kind employee { name } } } }
      cases(first: 3) { edges { node { subject status } } }
      feedback(first: 3) { edges { node { nps csat } } }
      opportunities(first: 3) { edges { node { title stage } } }
      timeline(first: 5) { edges { node { __typename } } }
      metrics { lastNps openCases }
    } }
  }
}
"""

# About 10,000 resolved fields with 100 customers of the demo data: the executor's cost per field.
LARGE = """
query Large {
  customers(first: 100) {
    edges { cursor node {
      id displayName emails segment tier region status tags createdAt
      lifetimeValue { amount amountMinor currency }
      consent { email sms phone marketing }
      transactions(first: 20) { edges { cursor node {
        id occurredAt channel touchpoint amount { amount currency }
        items { sku name quantity unitPrice { amount currency } }
      } } }
    } }
  }
}
"""

Variables = Callable[[DataSet, int], dict[str, Any]]


def _customer_360(data: DataSet, n: int) -> dict[str, Any]:
    return {"id": encode_global_id("Customer", data.busiest[n % len(data.busiest)])}


@dataclass(frozen=True, slots=True)
class Scenario:
    """One measured request shape."""

    name: str
    title: str
    document: str
    variables: Variables
    reference: str | None = None  # path of the hand-written endpoint answering the same request
    role: Role = Role.FRONTLINE
    large: bool = False  # the response whose cost per resolved field is reported
    share: float = 1.0  # of --requests: slow, database-bound scenarios take fewer to keep a run short
    concurrency: int | None = None  # requests in flight at once, when not the run's

    def body(self, data: DataSet, n: int) -> dict[str, Any]:
        """The JSON body of the ``n``-th request."""
        return {"query": self.document, "variables": self.variables(data, n)}


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "customer-360",
        "customer 360 of one customer (profile, 5 connections of 10, timeline 20, metrics)",
        CUSTOMER_360,
        _customer_360,
        reference="/reference/customer-360",
        share=3.0,  # short requests: more of them steady its ratio to the reference
    ),
    Scenario(
        "customers-50",
        "`customers(first: 50)` with nested connections, timeline and metrics",
        CUSTOMER_LIST,
        lambda data, n: {"first": 50},
        reference="/reference/customers",
        share=0.25,
    ),
    Scenario(
        "customers-1",
        "`customers(first: 1)` with the same nested selection (commands must equal first: 50)",
        CUSTOMER_LIST,
        lambda data, n: {"first": 1},
        reference="/reference/customers",
    ),
    Scenario(
        "customers-100",
        "`customers(first: 100)` with the same nested selection, 2 at a time (commands must equal first: 50)",
        CUSTOMER_LIST,
        lambda data, n: {"first": 100},
        reference="/reference/customers",
        share=0.125,
        concurrency=2,
    ),
    Scenario(
        "large",
        "large response: 100 customers with 20 transactions and their line items",
        LARGE,
        lambda data, n: {},
        reference="/reference/large",
        large=True,
        share=0.5,
    ),
)

# Scenarios whose operations do not exist yet: each becomes one entry of SCENARIOS when it lands.


def by_name(names: list[str] | None) -> tuple[Scenario, ...]:
    """The scenarios named, in suite order; all of them when ``names`` is None."""
    if names is None:
        return SCENARIOS
    unknown = set(names) - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return tuple(s for s in SCENARIOS if s.name in names)
