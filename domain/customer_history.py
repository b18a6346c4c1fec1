"""A customer's raw history, read for many customers at once: what standings and experience value derive from.

One command per kind of record for a whole batch of customers, whatever its size, so recomputing the derived
state of the customers a change touched costs the same few commands for one customer or five hundred.

A history can also be brought up to date from one kept earlier (with the standing computed from it): only
the kinds of record changed since are read again, and records inserted since are added as the change
carried them, without a read. So a response only costs its customer's profile read, not the customer's
every purchase and response again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson

from domain.crm.models import Opportunity, OpportunityStage
from domain.crm.repository import CaseSummary, Purchase
from domain.customers.models import Customer
from domain.feedback.models import Touchpoint
from domain.feedback.repository import Answer
from domain.money import Money
from domain.store import KEYS_PER_READ, read_by_chunks

if TYPE_CHECKING:  # the repositories keep standings, which keep records: a cycle only for the type checker
    from domain.repositories import Repositories


class Part(Enum):
    """The kinds of record a history holds, each read by one command for a batch of customers; named by
    their field of ``Records``."""

    PURCHASES = "purchases"  # transactions
    ANSWERS = "answers"  # feedback
    ALERTS = "open_alert_ids"
    CASES = "cases"
    INTERACTIONS = "last_interaction_at"
    OPPORTUNITIES = "opportunities"


@dataclass(frozen=True, slots=True)
class Records:
    """A customer's records that its standing and experience value depend on, the profile aside."""

    purchases: tuple[Purchase, ...] = ()  # oldest first
    answers: tuple[Answer, ...] = ()  # feedback responses, oldest first
    open_alert_ids: frozenset[str] = frozenset()  # open or acknowledged
    cases: CaseSummary | None = None  # None: no case at all
    last_interaction_at: datetime | None = None
    opportunities: tuple[Opportunity, ...] = ()  # newest first


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """Everything about one customer that its standing and its experience value depend on."""

    customer: Customer
    records: Records

    @property
    def purchases(self) -> tuple[Purchase, ...]:
        return self.records.purchases

    @property
    def answers(self) -> tuple[Answer, ...]:
        return self.records.answers

    @property
    def open_alerts(self) -> int:
        return len(self.records.open_alert_ids)

    @property
    def cases(self) -> CaseSummary | None:
        return self.records.cases

    @property
    def last_interaction_at(self) -> datetime | None:
        return self.records.last_interaction_at

    @property
    def opportunities(self) -> tuple[Opportunity, ...]:
        return self.records.opportunities

    @property
    def has_history(self) -> bool:
        """Whether anything ever happened between the customer and the company."""
        r = self.records
        return bool(
            r.purchases
            or r.answers
            or r.open_alert_ids
            or r.cases
            or r.last_interaction_at
            or r.opportunities
        )


@dataclass(slots=True)
class Changes:
    """What writes since a customer's records were kept changed of them: the kinds to read again, and the
    records inserted (as the change carried them), added without a read where their kind is not read."""

    reread: set[Part] = field(default_factory=set)
    answers: dict[str, Answer] = field(default_factory=dict)  # responses inserted, by id
    opened_alerts: set[str] = field(default_factory=set)  # alerts inserted open, by id
    # The profile itself was written. It is read with every recomputation anyway; what is derived from it
    # with the records (experience-value observations) is then recomputed whole.
    profile: bool = False


def _with_inserts(records: Records, changes: Changes) -> Records:
    """Kept records with the inserted ones added (by id: a change seen twice adds nothing more)."""
    if changes.answers and Part.ANSWERS not in changes.reread:
        answers = {a.id: a for a in records.answers} | changes.answers
        records = replace(records, answers=tuple(sorted(answers.values(), key=lambda a: (a.at, a.id))))
    if changes.opened_alerts and Part.ALERTS not in changes.reread:
        records = replace(records, open_alert_ids=records.open_alert_ids | changes.opened_alerts)
    return records


async def read_histories(
    repos: Repositories,
    customer_ids: Sequence[str],
    *,
    kept: Mapping[str, Records] | None = None,
    changes: Mapping[str, Changes] | None = None,
) -> dict[str, CustomerHistory]:
    """The history of each of these customers that exists (unknown ids are absent), in up to seven commands
    per ``KEYS_PER_READ`` customers.

    A customer with ``kept`` records reads again only the kinds its ``changes`` name (every profile is read);
    the others are read whole."""
    ids = list(dict.fromkeys(customer_ids))
    if len(ids) > KEYS_PER_READ:
        return await read_by_chunks(ids, partial(read_histories, repos, kept=kept, changes=changes))
    if not ids:
        return {}
    kept, changes = kept or {}, changes or {}
    nothing = Changes()

    def reading(part: Part) -> set[str]:
        return {c for c in ids if c not in kept or part in changes.get(c, nothing).reread}

    readers: dict[Part, Callable[[list[str]], Awaitable[Mapping[str, Any]]]] = {
        Part.PURCHASES: repos.transactions.purchases,
        Part.ANSWERS: repos.feedback.answers,
        Part.ALERTS: repos.alerts.open_ids_by_customer,
        Part.CASES: repos.cases.summaries,
        Part.INTERACTIONS: repos.interactions.latest,
        Part.OPPORTUNITIES: repos.opportunities.by_customer,
    }
    asked = {part: who for part in Part if (who := reading(part))}
    customers, *found = await asyncio.gather(
        repos.customers.get_many(ids), *(readers[part](sorted(who)) for part, who in asked.items())
    )
    read = dict(zip(asked, found, strict=True))

    def records_of(customer_id: str) -> Records:
        kept_records = kept.get(customer_id)
        base = (
            Records()
            if kept_records is None
            else _with_inserts(kept_records, changes.get(customer_id, nothing))
        )
        fresh = {
            part.value: _as_stored(part, read[part].get(customer_id))
            for part, who in asked.items()
            if customer_id in who
        }
        return replace(base, **fresh)

    return {
        customer_id: CustomerHistory(customer=customer, records=records_of(customer_id))
        for customer_id, customer in customers.items()
    }


def _as_stored(part: Part, value: Any) -> Any:
    """A read's answer for one customer, as ``Records`` holds it (a customer a read found nothing for:
    none)."""
    if part is Part.ALERTS:
        return frozenset(value or ())
    if part in (Part.PURCHASES, Part.ANSWERS, Part.OPPORTUNITIES):
        return tuple(value or ())
    return value


def records_document(records: Records) -> str:
    """Records as kept with the standing computed from them: one JSON string. Every standing write carries
    them, and the embedded database walks every field of a document it writes (for its indexes and its
    change history): as nested arrays of a customer's responses and purchases they cost it about a quarter
    more per standing written than as one string."""
    cases = records.cases
    return orjson.dumps(
        {
            "purchases": [[p.at, p.amount.amount_minor, p.amount.currency] for p in records.purchases],
            "answers": [
                [a.id, a.at, a.nps, a.csat, a.touchpoint.value, a.region, a.segment] for a in records.answers
            ],
            "openAlerts": sorted(records.open_alert_ids),
            "cases": [cases.latest, cases.open_complaints] if cases is not None else None,
            "lastInteractionAt": records.last_interaction_at,
            "opportunities": [_opportunity_row(o) for o in records.opportunities],
        }
    ).decode()


def records_from(kept: str) -> Records:
    """The records ``records_document`` kept."""
    document = orjson.loads(kept)
    cases = document["cases"]
    return Records(
        purchases=tuple(
            Purchase(_instant(at), Money(minor, currency)) for at, minor, currency in document["purchases"]
        ),
        answers=tuple(
            Answer(i, _instant(at), nps, csat, Touchpoint(touchpoint), region, segment)
            for i, at, nps, csat, touchpoint, region, segment in document["answers"]
        ),
        open_alert_ids=frozenset(document["openAlerts"]),
        cases=CaseSummary(_instant(cases[0]), cases[1]) if cases is not None else None,
        last_interaction_at=_instant(at) if (at := document["lastInteractionAt"]) is not None else None,
        opportunities=tuple(_opportunity_from(row) for row in document["opportunities"]),
    )


def _opportunity_row(o: Opportunity) -> list[Any]:
    amount = o.amount
    closes = o.expected_close_on
    return [
        o.id,
        o.customer_id,
        o.region,
        o.title,
        o.stage.value,
        amount.amount_minor,
        amount.currency,
        o.probability,
        closes.isoformat() if closes else None,
        o.owner_id,
        o.opened_at,
    ]


def _opportunity_from(row: list[Any]) -> Opportunity:
    i, customer_id, region, title, stage, minor, currency, probability, closes, owner_id, opened_at = row
    return Opportunity(
        id=i,
        customer_id=customer_id,
        region=region,
        title=title,
        stage=OpportunityStage(stage),
        amount=Money(minor, currency),
        probability=probability,
        expected_close_on=date.fromisoformat(closes) if closes else None,
        owner_id=owner_id,
        opened_at=datetime.fromisoformat(opened_at),
    )


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)
