"""Hand-written reference endpoints: the same database calls as the GraphQL scenarios, the same JSON.

Each handler authenticates the bearer token, reads through the caller's scoped repositories with the same
batched commands the GraphQL loaders send, records the same audit entries, and builds the response by hand.
The GraphQL overhead of a scenario is then its server CPU per request divided by the reference's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from auth.policy import row_scope
from auth.principal import Role
from auth.tokens import TokenVerifier
from domain.audit.models import AuditCollector
from domain.crm.models import Case, Interaction, Opportunity, Transaction
from domain.customer_records import CustomerRecords
from domain.customers.metrics import CustomerMetrics, compute_metrics
from domain.customers.models import Customer, CustomerFilter
from domain.customers.repository import cursor_of
from domain.employees.models import Employee
from domain.errors import Unauthenticated
from domain.feedback.models import Feedback
from domain.ids import new_id
from domain.paging import Page, PageEnds
from domain.repositories import Repositories
from domain.store import Database
from domain.timeline import Record, TimelineKind, merge
from resolvers.node import encode_global_id
from resolvers.record_kinds import RECORD_KINDS

R = TypeVar("R")
Json = dict[str, Any]

TYPE_NAMES = {kind: spec.type_name for kind, spec in RECORD_KINDS.items()}
# Each kind's repository is named like its connection field; the timeline reads every kind there is.
REPOSITORY = {TimelineKind.FEEDBACK: "feedback", TimelineKind.OPPORTUNITY: "opportunities"}
CONNECTIONS = (
    TimelineKind.TRANSACTION,
    TimelineKind.INTERACTION,
    TimelineKind.CASE,
    TimelineKind.FEEDBACK,
    TimelineKind.OPPORTUNITY,
)


def repository(repos: Repositories, kind: TimelineKind) -> CustomerRecords[Any]:
    found: CustomerRecords[Any] = getattr(repos, REPOSITORY.get(kind, f"{kind.value.lower()}s"))
    return found


def kinds(repos: Repositories) -> dict[TimelineKind, CustomerRecords[Any]]:
    """The repositories of the five record connections of a customer."""
    return {kind: repository(repos, kind) for kind in CONNECTIONS}


def timeline_kinds(repos: Repositories) -> dict[TimelineKind, CustomerRecords[Any]]:
    """The repositories of every kind the timeline merges."""
    return {kind: repository(repos, kind) for kind in TimelineKind}


def time_kind(record: Record) -> TimelineKind:
    """The timeline kind of a record, by its domain class."""
    return next(kind for kind, spec in RECORD_KINDS.items() if type(record).__name__ == spec.type_name)


def money(value: Any, *parts: str) -> Json:
    """Money as the GraphQL type shows it (camel-case keys, the amount as a decimal string)."""
    return {
        "amountMinor" if part == "amount_minor" else part: (
            str(value.amount) if part == "amount" else getattr(value, part)
        )
        for part in parts
    }


def edges(page: Page[R], node: Callable[[R], Json]) -> list[Json]:
    return [{"node": node(item)} for item in page.items]


async def metrics_of(repos: Repositories, customers: Sequence[Customer]) -> dict[str, CustomerMetrics]:
    """The loaders' metrics: four batched commands for all customers."""
    ids = [c.id for c in customers]
    scores, open_cases, last_interaction, last_case = await asyncio.gather(
        repos.feedback.scores(ids),
        repos.cases.open_counts(ids),
        repos.interactions.latest(ids),
        repos.cases.latest(ids),
    )
    return {
        c.id: compute_metrics(
            scores=scores[c.id],
            open_cases=open_cases[c.id],
            lifetime_value=c.lifetime_value,
            contact_times=(
                last_interaction.get(c.id),
                last_case.get(c.id),
                scores[c.id][0].occurred_at if scores[c.id] else None,
            ),
        )
        for c in customers
    }


async def employees(repos: Repositories, ids: Iterable[str | None], known: dict[str, Employee]) -> None:
    """Reads these employees in one command, like one wave of the loader: no cache across waves."""
    wanted = [i for i in dict.fromkeys(ids) if i is not None]
    if wanted:
        known.update(await repos.employees.get_many(wanted))


def employee(known: dict[str, Employee], employee_id: str | None, *parts: str) -> Json | None:
    found = known.get(employee_id) if employee_id is not None else None
    return {part: getattr(found, part) for part in parts} if found is not None else None


def personal(audit: AuditCollector, customer: Customer, **values: Any) -> Json:
    """Personal fields shown in full: each non-empty one is audited, as the policy guard does."""
    for name, value in values.items():
        if value not in ("", []):
            audit.saw(customer.id, name)
    return values


class Reference:
    """The reference handlers; the database is set by the app's lifespan, which owns the client."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.db: Database | None = None
        self._verifier = verifier
        self._page_ends = PageEnds()  # as the app's runtime keeps them

    def routes(self) -> list[Route]:
        return [
            Route("/reference/customer-360", self._handler(self.customer_360), methods=["POST"]),
            Route("/reference/customers", self._handler(self.customers), methods=["POST"]),
            Route("/reference/large", self._handler(self.large), methods=["POST"]),
        ]

    def _handler(
        self, answer: Callable[[Repositories, AuditCollector, dict[str, Any]], Any]
    ) -> Callable[[Request], Any]:
        async def handle(request: Request) -> Response:
            try:
                principal = await self._verifier.principal(request.headers.get("authorization"))
            except Unauthenticated:
                return Response(status_code=401)
            if principal.role is not Role.FRONTLINE:
                return Response(status_code=403)  # the reference shows what frontline staff see, in full
            body = orjson.loads(await request.body())
            assert self.db is not None, "the reference handlers run inside the app's lifespan"
            repos = Repositories.on(self.db, row_scope(principal), page_ends=self._page_ends)
            audit = AuditCollector()
            data = await answer(repos, audit, body.get("variables") or {})
            entries = audit.drain(
                subject=principal.subject,
                role=principal.role.value,
                operation=body.get("operationName"),
                request_id=new_id(),
                at=datetime.now(UTC),
                new_id=new_id,
            )
            await repos.audit.append(entries)
            return Response(orjson.dumps({"data": data}), media_type="application/json")

        return handle

    async def customer_360(self, repos: Repositories, audit: AuditCollector, variables: Json) -> Json:
        """``CUSTOMER_360`` by hand."""
        from resolvers.node import expect_global_id

        customer_id = expect_global_id(variables["id"], "Customer")
        customer = (await repos.customers.get_many([customer_id])).get(customer_id)
        if customer is None:
            return {"customer": None}
        record_repos, timeline_repos = kinds(repos), timeline_kinds(repos)
        staff: dict[str, Employee] = {}
        _, counts, pages, timeline, metrics = await asyncio.gather(
            employees(repos, [customer.owner_id], staff),
            asyncio.gather(*(r.counts([customer_id]) for r in record_repos.values())),
            asyncio.gather(*(r.pages([customer_id], limit=10) for r in record_repos.values())),
            asyncio.gather(*(r.pages([customer_id], limit=20) for r in timeline_repos.values())),
            metrics_of(repos, [customer]),
        )
        empty: Page[Any] = Page((), False)
        page = {kind: p.get(customer_id, empty) for kind, p in zip(record_repos, pages, strict=True)}
        total = {kind: c[customer_id] for kind, c in zip(record_repos, counts, strict=True)}
        interactions: Page[Interaction] = page[TimelineKind.INTERACTION]
        await employees(repos, (i.employee_id for i in interactions.items), staff)
        merged = merge(
            {kind: p.get(customer_id, empty) for kind, p in zip(timeline_repos, timeline, strict=True)},
            first=20,
        )
        shown = metrics[customer_id]
        now = datetime.now(UTC)

        def timeline_node(record: Record) -> Json:
            if isinstance(record, Feedback):
                return {"__typename": "Feedback", "nps": record.nps, "comment": record.comment}
            if isinstance(record, Case):
                return {"__typename": "Case", "subject": record.subject, "status": record.status.name}
            return {"__typename": TYPE_NAMES[time_kind(record)]}

        def transaction(t: Transaction) -> Json:
            return {
                "occurredAt": t.occurred_at.isoformat(),
                "amount": money(t.amount, "amount", "currency"),
                "channel": t.channel.name,
            }

        def interaction(i: Interaction) -> Json:
            return {
                "occurredAt": i.occurred_at.isoformat(),
                "kind": i.kind.name,
                "summary": i.summary,
                "employee": employee(staff, i.employee_id, "name"),
            }

        def case(c: Case) -> Json:
            return {
                "openedAt": c.opened_at.isoformat(),
                "kind": c.kind.name,
                "status": c.status.name,
                "subject": c.subject,
                "severity": c.severity.name,
            }

        def feedback(f: Feedback) -> Json:
            return {
                "occurredAt": f.occurred_at.isoformat(),
                "touchpoint": f.touchpoint.name,
                "nps": f.nps,
                "csat": f.csat,
                "satisfactionIndex": f.satisfaction_index,
                "comment": f.comment,
            }

        def opportunity(o: Opportunity) -> Json:
            return {
                "title": o.title,
                "stage": o.stage.name,
                "probability": o.probability,
                "amount": money(o.amount, "amount"),
            }

        views: dict[TimelineKind, Callable[[Any], Json]] = {
            TimelineKind.TRANSACTION: transaction,
            TimelineKind.INTERACTION: interaction,
            TimelineKind.CASE: case,
            TimelineKind.FEEDBACK: feedback,
            TimelineKind.OPPORTUNITY: opportunity,
        }
        return {
            "customer": {
                "id": encode_global_id("Customer", customer.id),
                **personal(
                    audit,
                    customer,
                    displayName=customer.display_name,
                    emails=list(customer.emails),
                    phones=list(customer.phones),
                ),
                "region": customer.region,
                "segment": customer.segment.name,
                "tier": customer.tier.name,
                "status": customer.status.name,
                "tags": list(customer.tags),
                "lifetimeValue": money(customer.lifetime_value, "amount", "currency"),
                "owner": employee(staff, customer.owner_id, "name", "email"),
                **{
                    name: {"totalCount": total[kind], "edges": edges(page[kind], views[kind])}
                    for name, kind in (
                        ("transactions", TimelineKind.TRANSACTION),
                        ("interactions", TimelineKind.INTERACTION),
                        ("cases", TimelineKind.CASE),
                        ("feedback", TimelineKind.FEEDBACK),
                        ("opportunities", TimelineKind.OPPORTUNITY),
                    )
                },
                "timeline": {
                    "pageInfo": {
                        "hasNextPage": merged.has_next,
                        "endCursor": merged.items[-1].cursor() if merged.items else None,
                    },
                    "edges": [{"node": timeline_node(e.record)} for e in merged.items],
                },
                "metrics": {
                    "responses": shown.responses,
                    "lastNps": shown.last_nps,
                    "csatMean": shown.csat_mean,
                    "satisfactionIndex": shown.satisfaction_index,
                    "openCases": shown.open_cases,
                    "daysSinceLastContact": shown.days_since_last_contact(now),
                },
            }
        }

    async def customers(self, repos: Repositories, audit: AuditCollector, variables: Json) -> Json:
        """``CUSTOMER_LIST`` by hand."""
        first = int(variables["first"])
        listed = await repos.customers.list(CustomerFilter(), first=first)
        customers = list(listed.items)
        ids = [c.id for c in customers]
        record_repos, timeline_repos = kinds(repos), timeline_kinds(repos)
        staff: dict[str, Employee] = {}
        _, counts, pages, timeline, metrics = await asyncio.gather(
            employees(repos, (c.owner_id for c in customers), staff),
            repos.transactions.counts(ids),
            asyncio.gather(*(r.pages(ids, limit=3) for r in record_repos.values())),
            asyncio.gather(*(r.pages(ids, limit=5) for r in timeline_repos.values())),
            metrics_of(repos, customers),
        )
        by_kind = dict(zip(record_repos, pages, strict=True))
        timelines = dict(zip(timeline_repos, timeline, strict=True))
        empty: Page[Any] = Page((), False)
        await employees(
            repos,
            (i.employee_id for p in by_kind[TimelineKind.INTERACTION].values() for i in p.items),
            staff,
        )

        def node(c: Customer) -> Json:
            page = {kind: by_kind[kind].get(c.id, empty) for kind in record_repos}
            merged = merge({kind: timelines[kind].get(c.id, empty) for kind in timeline_repos}, first=5)
            shown = metrics[c.id]
            return {
                "id": encode_global_id("Customer", c.id),
                **personal(audit, c, displayName=c.display_name),
                "segment": c.segment.name,
                "tier": c.tier.name,
                "region": c.region,
                "owner": employee(staff, c.owner_id, "name"),
                "transactions": {
                    "totalCount": counts[c.id],
                    "edges": edges(
                        page[TimelineKind.TRANSACTION],
                        lambda t: {
                            "occurredAt": t.occurred_at.isoformat(),
                            "amount": money(t.amount, "amount", "currency"),
                        },
                    ),
                },
                "interactions": {
                    "edges": edges(
                        page[TimelineKind.INTERACTION],
                        lambda i: {
                            "occurredAt": i.occurred_at.isoformat(),
                            "kind": i.kind.name,
                            "employee": employee(staff, i.employee_id, "name"),
                        },
                    )
                },
                "cases": {
                    "edges": edges(
                        page[TimelineKind.CASE], lambda k: {"subject": k.subject, "status": k.status.name}
                    )
                },
                "feedback": {
                    "edges": edges(page[TimelineKind.FEEDBACK], lambda f: {"nps": f.nps, "csat": f.csat})
                },
                "opportunities": {
                    "edges": edges(
                        page[TimelineKind.OPPORTUNITY], lambda o: {"title": o.title, "stage": o.stage.name}
                    )
                },
                "timeline": {"edges": [{"node": {"__typename": TYPE_NAMES[e.kind]}} for e in merged.items]},
                "metrics": {"lastNps": shown.last_nps, "openCases": shown.open_cases},
            }

        edges_out = [{"cursor": cursor_of(c), "node": node(c)} for c in customers]
        return {
            "customers": {
                "pageInfo": {
                    "hasNextPage": listed.has_next,
                    "endCursor": edges_out[-1]["cursor"] if edges_out else None,
                },
                "edges": edges_out,
            }
        }

    async def large(self, repos: Repositories, audit: AuditCollector, variables: Json) -> Json:
        """``LARGE`` by hand."""
        listed = await repos.customers.list(CustomerFilter(), first=100)
        customers = list(listed.items)
        pages = await repos.transactions.pages([c.id for c in customers], limit=20)
        empty: Page[Transaction] = Page((), False)
        spec = RECORD_KINDS[TimelineKind.TRANSACTION]

        def transaction(t: Transaction) -> Json:
            return {
                "cursor": spec.cursor(t),
                "node": {
                    "id": encode_global_id("Transaction", t.id),
                    "occurredAt": t.occurred_at.isoformat(),
                    "channel": t.channel.name,
                    "touchpoint": t.touchpoint,
                    "amount": money(t.amount, "amount", "currency"),
                    "items": [
                        {
                            "sku": i.sku,
                            "name": i.name,
                            "quantity": i.quantity,
                            "unitPrice": money(i.unit_price, "amount", "currency"),
                        }
                        for i in t.items
                    ],
                },
            }

        def node(c: Customer) -> Json:
            consent = c.consent
            return {
                "id": encode_global_id("Customer", c.id),
                **personal(audit, c, displayName=c.display_name, emails=list(c.emails)),
                "segment": c.segment.name,
                "tier": c.tier.name,
                "region": c.region,
                "status": c.status.name,
                "tags": list(c.tags),
                "createdAt": c.created_at.isoformat(),
                "lifetimeValue": money(c.lifetime_value, "amount", "amount_minor", "currency"),
                "consent": {
                    "email": consent.email,
                    "sms": consent.sms,
                    "phone": consent.phone,
                    "marketing": consent.marketing,
                },
                "transactions": {"edges": [transaction(t) for t in pages.get(c.id, empty).items]},
            }

        return {"customers": {"edges": [{"cursor": cursor_of(c), "node": node(c)} for c in customers]}}
