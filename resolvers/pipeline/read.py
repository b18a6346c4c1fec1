"""One aggregation per root field: the customers, their records, totals, metrics and references, read at once.

The pipeline starts with the root field's own stages (a customer by id, or a page of customers), then one
``$facet`` holds the profiles and one ``$lookup`` per record collection: each customer's records in the
caller's scope, newest first, through an inner ``$facet`` with a page per position asked for (the largest
page at that position serves the smaller ones), the total, the figures the metrics need and, for the alerts,
those raised by responses. When records' employees are shown, a second ``$facet`` looks them up by the ids the
first one found. What it read is primed into the request's loaders: the resolvers, policy guards, masks and
audit run exactly as they do over loaders, and anything the pipeline did not read is loaded on demand.

Every collection's stages, with the row scope, come from its repository; this module only puts them
together. Every ``$lookup`` joins on an id (``localField``/``foreignField``), never with ``let``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from graphql.execution.values import VariableValues, get_argument_values

from domain.alerts.models import Alert
from domain.alerts.repository import RAISED_STAGES
from domain.crm.models import Case, Interaction, Opportunity
from domain.crm.repository import OPEN_COUNT_STAGES
from domain.customer_records import (
    COUNT_STAGES,
    EVERY_STAGES,
    LATEST_STAGES,
    CustomerRecords,
    Ties,
    counted,
    latest_of,
)
from domain.customers.metrics import compute_metrics
from domain.customers.models import Customer
from domain.customers.repository import PROFILE_STAGE
from domain.employees.repository import EmployeeRepository
from domain.errors import DomainError
from domain.feedback.repository import scores_of
from domain.paging import Page, Position, check_page_size
from domain.store import Document
from domain.timeline import Record, TimelineCursor, TimelineKind, selected_kinds
from resolvers.context import Context
from resolvers.loaders import PageKey
from resolvers.pipeline.completion import ConnectionCompletion
from resolvers.pipeline.selection import CONNECTIONS, ConnectionRead, Selection, TimelineRead
from resolvers.record_kinds import RECORD_KINDS

FIELD_OF_KIND = {kind: name for name, kind in CONNECTIONS.items()}
# Where each record kind keeps the employees it refers to, for the lookup of the employees shown.
STAFF_FIELDS: dict[TimelineKind, tuple[str, ...]] = {
    TimelineKind.INTERACTION: ("employeeId",),
    TimelineKind.CASE: ("assigneeId",),
    TimelineKind.OPPORTUNITY: ("ownerId",),
    TimelineKind.ALERT: ("assigneeId", "escalatedTo"),
}


@dataclass(frozen=True, slots=True)
class PageRead:
    """One page the request will ask a loader for: a kind, a size and a position."""

    kind: TimelineKind
    limit: int
    after: Position | None = None
    ties: Ties = Ties.BY_ID
    # A connection's page completed from the documents, when its selection allows (``completion.py``).
    completion: ConnectionCompletion | None = None


@dataclass(slots=True)
class CollectionRead:
    """What one request reads from one record collection for each of its customers.

    ``every`` reads all of a customer's records (the metrics need every response): the pages from the
    start of the list are then its first records, and its total their number.
    """

    positions: dict[tuple[Position | None, Ties], int] = field(default_factory=dict)  # -> largest page
    count: bool = False
    latest: bool = False
    open_count: bool = False
    every: bool = False
    raised: bool = False  # alerts only: those raised by responses, to tell each response's alert

    def facets(self, repository: CustomerRecords[Any]) -> dict[str, list[Document]]:
        """The inner ``$facet``: every record or a page per position, and the figures asked for."""
        facets: dict[str, list[Document]] = {"all": list(EVERY_STAGES)} if self.every else {}
        for (after, ties), limit in self.positions.items():
            if not self._from_every(after):
                facets[self.key(after, ties)] = repository.page_stages(limit, after, ties)
        for name, wanted, stages in (
            ("count", self.count and not self.every, COUNT_STAGES),
            ("latest", self.latest, LATEST_STAGES),
            ("open", self.open_count, OPEN_COUNT_STAGES),
            ("raised", self.raised, RAISED_STAGES),
        ):
            if wanted:
                facets[name] = list(stages)
        return facets

    def stages(self, repository: CustomerRecords[Any]) -> list[Document]:
        """The lookup's stages: the inner ``$facet``, or the page's own stages when it is all there is."""
        facets = self.facets(repository)
        if self.alone:
            return facets["p0"]
        return [{"$facet": facets}]

    @property
    def alone(self) -> bool:
        """Whether one page is all this collection reads (its lookup holds the page's records then)."""
        figures = self.count or self.latest or self.open_count or self.every or self.raised
        return len(self.positions) == 1 and not figures

    def inner(self, looked_up: list[Document]) -> Document:
        """What the lookup found for one customer, by facet."""
        return {"p0": looked_up} if self.alone else looked_up[0]

    def key(self, after: Position | None, ties: Ties) -> str:
        """The facet holding the records of the page at this position."""
        if self._from_every(after):
            return "all"
        return f"p{list(self.positions).index((after, ties))}"

    def shown(self) -> dict[str, int]:
        """Each facet holding records of pages, with how many of its records the pages can show."""
        found: dict[str, int] = {}
        for (after, ties), limit in self.positions.items():
            key = self.key(after, ties)
            found[key] = max(found.get(key, 0), limit)
        return found

    def total(self, inner: Document) -> int:
        return len(inner["all"]) if self.every else counted(inner["count"])

    def _from_every(self, after: Position | None) -> bool:
        return self.every and after is None


@dataclass(slots=True)
class Wanted:
    """What one request reads, its arguments applied: the pages, totals and references to prime."""

    selection: Selection
    pages: list[PageRead] = field(default_factory=list)
    counts: set[TimelineKind] = field(default_factory=set)
    collections: dict[TimelineKind, CollectionRead] = field(default_factory=dict)

    @classmethod
    def of(cls, selection: Selection, variables: VariableValues, max_page_size: int) -> Wanted:
        """The reads of ``selection`` with this request's arguments.

        An argument the resolver will refuse (a page size out of range, a malformed cursor) leaves its
        field out: the resolver reports the error exactly as without the pipeline.
        """
        wanted = cls(selection)
        for connection in selection.connections:
            page = _connection_page(connection, variables, max_page_size)
            if page is not None:
                wanted.pages.append(page)
                if connection.count:
                    wanted.counts.add(connection.kind)
        for timeline in selection.timelines:
            wanted.pages += _timeline_pages(timeline, variables, max_page_size)
        wanted._plan()
        return wanted

    def _plan(self) -> None:
        collections: dict[TimelineKind, CollectionRead] = defaultdict(CollectionRead)
        for page in self.pages:
            positions = collections[page.kind].positions
            positions[(page.after, page.ties)] = max(page.limit, positions.get((page.after, page.ties), 0))
        for kind in self.counts:
            collections[kind].count = True
        feedback = collections.get(TimelineKind.FEEDBACK)
        if self.selection.feedback_alerts and feedback is not None and feedback.positions:
            # A response's alert belongs to the same customer: read with the customer's other alerts.
            collections[TimelineKind.ALERT].raised = True
        if self.selection.metrics:
            collections[TimelineKind.FEEDBACK].every = True
            collections[TimelineKind.CASE].open_count = True
            collections[TimelineKind.CASE].latest = True
            collections[TimelineKind.INTERACTION].latest = True
        # In TimelineKind order, so a document's pipeline is always the same.
        self.collections = {kind: collections[kind] for kind in TimelineKind if kind in collections}

    @property
    def staff(self) -> bool:
        """Whether employees are read: the owners, or the employees of records shown."""
        return self.selection.owner or any(
            kind in self.collections and self.collections[kind].positions for kind in self.selection.staff
        )


class Read:
    """The pipeline of one root field for one request, and the priming of its answer into the loaders."""

    def __init__(self, context: Context, wanted: Wanted, *, execution: object) -> None:
        self._context = context
        self._wanted = wanted
        self._repos = context.repos
        self._execution = execution  # what the pages completed here are kept under (``CompletedPages``)

    def _repository(self, kind: TimelineKind) -> CustomerRecords[Any]:
        repository: CustomerRecords[Any] = getattr(self._repos, FIELD_OF_KIND[kind])
        return repository

    def pipeline(self, root: Sequence[Document], *, first: int | None = None) -> list[Document]:
        """``root`` (the customers' own stages) and everything else the selection reads.

        With ``first`` the root stages read one customer more than the page shows (to tell whether a next
        page exists), and nothing else is read for that one.
        """
        wanted = self._wanted
        if not wanted.collections and not wanted.staff:
            return [*root, PROFILE_STAGE]
        shown = [{"$limit": first}] if first is not None else []
        facets: dict[str, list[Document]] = {"profile": [PROFILE_STAGE]}
        for kind, read in wanted.collections.items():
            repository = self._repository(kind)
            facets[FIELD_OF_KIND[kind]] = [
                *shown,
                {"$project": {"_id": 1}},
                repository.lookup("r", read.stages(repository)),
            ]
        stages = [*root, {"$facet": facets}]
        if wanted.staff:
            stages.append({"$facet": {"all": [{"$limit": 1}], "refs": self._references()}})
        return stages

    def _references(self) -> list[Document]:
        """The second ``$facet``: the employees the profiles and the records shown name, by their ids."""
        wanted = self._wanted
        ids: list[Any] = []
        if wanted.selection.owner:
            ids.append({"$map": {"input": "$profile", "as": "c", "in": "$$c.ownerId"}})
        for kind in sorted(wanted.selection.staff, key=lambda k: k.rank):
            read = wanted.collections.get(kind)
            if read is None:
                continue
            for facet, shown in read.shown().items():
                records = _records(FIELD_OF_KIND[kind], None if read.alone else facet, shown)
                ids += [_values(records, f"$$d.{name}") for name in STAFF_FIELDS[kind]]
                if kind is TimelineKind.ALERT:
                    ids.append(_values(records, _STEP_ASSIGNEES))
        return [
            {"$project": {"staff": {"$concatArrays": ids}}},
            EmployeeRepository.lookup("staff", local_field="staff"),
        ]

    def prime(self, answer: list[Document], *, first: int | None = None) -> list[Customer]:
        """Primes the loaders with the pipeline's answer; the customers read, in order.

        With ``first`` the customers are a page read with one more than it shows: all of them are returned,
        and the loaders are primed with the page's only.
        """
        wanted, loaders, repos = self._wanted, self._context.loaders, self._repos
        main, refs = self._parts(answer)
        customers = [repos.customers.from_document(d) for d in main["profile"]]
        shown = customers[:first] if first is not None else customers
        for customer in shown:
            loaders.customers.prime(customer.id, customer)
        facets: dict[TimelineKind, dict[str, Document]] = {}
        records: dict[TimelineKind, dict[str, list[Record]]] = {}
        for kind, read in wanted.collections.items():
            facets[kind] = {row["_id"]: read.inner(row["r"]) for row in main[FIELD_OF_KIND[kind]]}
            records[kind] = self._prime_collection(kind, read, facets[kind], shown)
        if wanted.selection.metrics:
            self._prime_metrics(facets, shown)
        alerts = wanted.collections.get(TimelineKind.ALERT)
        if alerts is not None and alerts.raised:
            self._prime_feedback_alerts(facets[TimelineKind.ALERT], records.get(TimelineKind.FEEDBACK, {}))
        if refs is not None:
            self._prime_references(refs, shown, records)
        return customers

    def profiles(self, answer: list[Document]) -> list[Document]:
        """The customers' own documents in the pipeline's answer, in order."""
        profiles: list[Document] = self._parts(answer)[0]["profile"]
        return profiles

    def _parts(self, answer: list[Document]) -> tuple[Document, Document | None]:
        """The answer's first ``$facet`` (the profiles and the records by collection) and its second (the
        employees named), if any."""
        wanted = self._wanted
        if not wanted.collections and not wanted.staff:
            return {"profile": answer}, None
        if wanted.staff:
            return answer[0]["all"][0], answer[0]["refs"][0]
        return answer[0], None

    def _prime_collection(
        self, kind: TimelineKind, read: CollectionRead, facets: dict[str, Document], shown: list[Customer]
    ) -> dict[str, list[Record]]:
        """Primes one collection's pages and totals, or completes its pages from the documents where
        their selection allows; the records pages can show, by facet and customer, when the references
        of those records are read (the employees they name, the alerts responses raised)."""
        repository = self._repository(kind)
        loaders = RECORD_KINDS[kind].loaders(self._context.loaders)
        completed = self._context.loaders.completed
        role = self._context.principal.role
        pages = [page for page in self._wanted.pages if page.kind is kind]
        records_shown = read.shown()
        referred = kind in self._wanted.selection.staff or (
            kind is TimelineKind.FEEDBACK and self._wanted.selection.feedback_alerts
        )
        found: dict[str, list[Record]] = {}
        for customer in shown:
            inner = facets.get(customer.id)
            if inner is None:
                continue
            records = _Records(repository, inner, records_shown)
            for page in pages:
                key = read.key(page.after, page.ties)
                documents, has_next = inner[key][: page.limit], len(inner[key]) > page.limit
                completion = page.completion
                if completion is not None and completion.allowed(role):
                    answer = completion.complete(documents, has_next=has_next)
                    if answer is not None:
                        completed.put(self._execution, completion.node, customer.id, answer)
                        continue
                loaders.pages.prime(
                    PageKey(customer.id, page.limit, page.after, page.ties),
                    Page(records.of(key)[: page.limit], has_next=has_next),
                )
            if referred:
                for key in records_shown:
                    found[f"{key}/{customer.id}"] = records.of(key)
            if read.count:
                loaders.counts.prime(customer.id, read.total(inner))
        return found

    def _prime_metrics(self, facets: dict[TimelineKind, dict[str, Document]], shown: list[Customer]) -> None:
        """The metrics loader's figures, computed the same way from the same reads."""
        for customer in shown:
            try:
                feedback = facets[TimelineKind.FEEDBACK][customer.id]
                cases = facets[TimelineKind.CASE][customer.id]
                interactions = facets[TimelineKind.INTERACTION][customer.id]
            except KeyError:
                continue
            scores = scores_of(feedback["all"])
            metrics = compute_metrics(
                scores=scores,
                open_cases=counted(cases["open"]),
                lifetime_value=customer.lifetime_value,
                contact_times=(
                    latest_of(interactions["latest"]),
                    latest_of(cases["latest"]),
                    scores[0].occurred_at if scores else None,
                ),
            )
            self._context.loaders.metrics.prime(customer.id, metrics)

    def _prime_feedback_alerts(
        self, alert_facets: dict[str, Document], feedback: dict[str, list[Record]]
    ) -> None:
        """The alert each response shown raised (or none), from its customer's alerts."""
        raised = {
            feedback_id: alert
            for inner in alert_facets.values()
            for feedback_id, alert in self._repos.alerts.by_feedback_of(inner["raised"]).items()
        }
        for page in feedback.values():
            for response in page:
                self._context.loaders.alerts_by_feedback.prime(response.id, raised.get(response.id))

    def _prime_references(
        self, refs: Document, shown: list[Customer], records: dict[TimelineKind, dict[str, list[Record]]]
    ) -> None:
        """The employees the owners and the records shown name (or none, for an id no employee has)."""
        loaders = self._context.loaders
        employees = {d["_id"]: EmployeeRepository.from_document(d) for d in refs["staff"]}
        for employee_id in _staff_ids(self._wanted, shown, records):
            loaders.employees.prime(employee_id, employees.get(employee_id))


class _Records:
    """One customer's records of one collection as domain records, each facet converted when first asked
    for: pages completed from the documents need none."""

    def __init__(self, repository: CustomerRecords[Any], inner: Document, shown: dict[str, int]) -> None:
        self._repository = repository
        self._inner = inner
        self._shown = shown
        self._converted: dict[str, list[Record]] = {}

    def of(self, key: str) -> list[Record]:
        """The records of facet ``key`` that pages can show."""
        found = self._converted.get(key)
        if found is None:
            documents = self._inner[key][: self._shown[key]]
            found = self._converted[key] = [self._repository.from_document(d) for d in documents]
        return found


def _connection_page(
    connection: ConnectionRead, variables: VariableValues, max_page_size: int
) -> PageRead | None:
    try:
        arguments = get_argument_values(connection.field, connection.node, variables)
        limit = check_page_size(arguments["first"], maximum=max_page_size)
        after = RECORD_KINDS[connection.kind].position(arguments.get("after"))
    except (DomainError, GraphQLError):
        return None  # the resolver reports it, in its place
    return PageRead(connection.kind, limit, after, completion=connection.completion)


def _timeline_pages(timeline: TimelineRead, variables: VariableValues, max_page_size: int) -> list[PageRead]:
    try:
        arguments = get_argument_values(timeline.field, timeline.node, variables)
        limit = check_page_size(arguments["first"], maximum=max_page_size)
        after = arguments.get("after")
        cursor = TimelineCursor.decode(after) if after is not None else None
        kinds = selected_kinds(arguments.get("kinds"))
    except (DomainError, GraphQLError):
        return []  # the resolver reports it, in its place
    if cursor is None:
        return [PageRead(kind, limit) for kind in kinds]
    return [PageRead(kind, limit, cursor.position, cursor.ties_for(kind)) for kind in kinds]


# The assignees named in the history of an alert ``$$d`` (an array).
_STEP_ASSIGNEES = {"$map": {"input": {"$ifNull": ["$$d.history", []]}, "as": "s", "in": "$$s.assigneeId"}}


def _records(collection: str, facet: str | None, shown: int) -> Document:
    """The records of one facet of one collection's lookups that pages can show, over all customers: an
    expression over the first ``$facet``'s output, flattened to one array (``facet`` None: the lookups
    hold the page's records themselves)."""
    if facet is None:
        found: Any = {"$slice": ["$$this.r", shown]}
    else:
        inner = {"$arrayElemAt": ["$$this.r", 0]}
        found = {"$let": {"vars": {"inner": inner}, "in": {"$slice": [f"$$inner.{facet}", shown]}}}
    return {
        "$reduce": {
            "input": f"${collection}",
            "initialValue": [],
            "in": {"$concatArrays": ["$$value", found]},
        }
    }


def _values(records: Document, value: Any) -> Document:
    """``value`` (an expression of the record ``$$d``, one id or an array of them) for each of ``records``,
    as one flat array."""
    if isinstance(value, str):
        return {"$map": {"input": records, "as": "d", "in": value}}
    return {
        "$reduce": {
            "input": {"$map": {"input": records, "as": "d", "in": value}},
            "initialValue": [],
            "in": {"$concatArrays": ["$$value", "$$this"]},
        }
    }


def _staff_ids(
    wanted: Wanted, shown: list[Customer], records: dict[TimelineKind, dict[str, list[Record]]]
) -> Iterable[str]:
    """The employee ids the second facet looked up, as the records name them (None left out)."""
    ids: dict[str, None] = {}
    if wanted.selection.owner:
        ids.update((c.owner_id, None) for c in shown if c.owner_id is not None)
    for kind in wanted.selection.staff:
        for page in records.get(kind, {}).values():
            for record in page:
                ids.update((i, None) for i in _employees_of(record) if i is not None)
    return ids


def _employees_of(record: Record) -> tuple[str | None, ...]:
    if isinstance(record, Interaction):
        return (record.employee_id,)
    if isinstance(record, Case):
        return (record.assignee_id,)
    if isinstance(record, Opportunity):
        return (record.owner_id,)
    if isinstance(record, Alert):
        return (record.assignee_id, record.escalated_to, *(s.assignee_id for s in record.history))
    return ()
