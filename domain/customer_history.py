"""A customer's raw history, read for many customers at once: what standings and experience value derive from.

One command per collection for a whole batch of customers, whatever its size, so recomputing the derived
state of the customers a change touched costs the same few commands for one customer or five hundred.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.crm.models import Opportunity
from domain.crm.repository import CaseSummary, Purchase
from domain.customers.models import Customer
from domain.feedback.repository import Answer
from domain.repositories import Repositories


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """Everything about one customer that its standing and its experience value depend on."""

    customer: Customer
    purchases: tuple[Purchase, ...]  # oldest first
    answers: tuple[Answer, ...]  # feedback responses, oldest first
    open_alerts: int
    cases: CaseSummary | None  # None: no case at all
    last_interaction_at: datetime | None
    opportunities: tuple[Opportunity, ...]  # newest first

    @property
    def has_history(self) -> bool:
        """Whether anything ever happened between the customer and the company."""
        return bool(
            self.purchases
            or self.answers
            or self.open_alerts
            or self.cases
            or self.last_interaction_at
            or self.opportunities
        )


async def read_histories(repos: Repositories, customer_ids: Sequence[str]) -> dict[str, CustomerHistory]:
    """The history of each of these customers that exists (unknown ids are absent), in seven commands."""
    ids = list(dict.fromkeys(customer_ids))
    if not ids:
        return {}
    # Two groups: gather keeps the types of at most six results.
    customers, purchases, answers, alerts = await asyncio.gather(
        repos.customers.get_many(ids),
        repos.transactions.purchases(ids),
        repos.feedback.answers(ids),
        repos.alerts.open_by_customer(ids),
    )
    cases, interactions, opportunities = await asyncio.gather(
        repos.cases.summaries(ids), repos.interactions.latest(ids), repos.opportunities.by_customer(ids)
    )
    return {
        customer_id: CustomerHistory(
            customer=customer,
            purchases=tuple(purchases.get(customer_id, ())),
            answers=tuple(answers.get(customer_id, ())),
            open_alerts=alerts.get(customer_id, 0),
            cases=cases.get(customer_id),
            last_interaction_at=interactions.get(customer_id),
            opportunities=tuple(opportunities.get(customer_id, ())),
        )
        for customer_id, customer in customers.items()
    }
