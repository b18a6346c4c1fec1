"""Persistence of customer profiles, with the derived fields their queries need."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, overload

from domain.aggregates.churn import Lifecycle
from domain.aggregates.repository import LifecycleRollupRepository
from domain.customers import search
from domain.customers.models import (
    Address,
    Consent,
    Customer,
    CustomerFilter,
    CustomerStatus,
    ExternalId,
    Segment,
    Tier,
)
from domain.customers.search import WordKind
from domain.documents import date_doc, date_from, money_doc, money_from
from domain.errors import Conflict, Forbidden, InvalidInput
from domain.imports.rows import Upserted
from domain.paging import BoundedPage, Page, PageEnds, decode_cursor, encode_cursor, keyset_page
from domain.scope import RowScope, any_of, narrowed
from domain.store import Database, Document, IndexSpec, Session, UnitOfWork, backfill

CURSOR_KIND = "customer"
# What a pipeline reading profiles leaves out: stored for indexes and searches, never read back. The sort
# name stays: where a page of the name-ordered list ends (``PageEnds``).
PROFILE_STAGE: Document = {"$project": {"searchTokens": 0, "externalKeys": 0}}
# Lookups by many external ids are split: some servers (SecantusDB) slow down sharply on long $in lists.
LOOKUP_CHUNK = 100
SORT_NAME = "sortName"
# Name order, ties by id: what lists and their indexes are sorted by (``keyset_page``).
_ORDER = ((SORT_NAME, 1), ("_id", 1))


def external_key(external_id: ExternalId) -> str:
    """One string per external id, so a unique multikey index can keep them unique."""
    return f"{external_id.system}|{external_id.id}"


class CustomerRepository:
    """Customer profiles, listed by family name then given name."""

    collection_name = "customers"

    def __init__(
        self,
        db: Database,
        scope: RowScope | None = None,
        *,
        rollup_zones: Sequence[str] = ("UTC",),
        page_ends: PageEnds | None = None,
    ) -> None:
        self._collection = db[self.collection_name]
        self._scope = (scope or RowScope.everything()).customer_filter()
        # Where pages of the list ended, shared by the requests of one process (``list_page``).
        self._page_ends = page_ends if page_ends is not None else PageEnds()
        # Every write counts its customers into the lifecycle cells churn is read from (whatever the scope).
        self._lifecycles = LifecycleRollupRepository(db, zones=rollup_zones)

    @classmethod
    def indexes(cls) -> list[IndexSpec]:
        """Indexes for listing by name within each filter, search and reconciliation."""
        keyed = [
            IndexSpec(cls.collection_name, ((field, 1), *_ORDER))
            for field in ("region", "segment", "status", "ownerId", "tags", "searchTokens", "nameTokens")
        ]
        return [
            IndexSpec(cls.collection_name, _ORDER),
            *keyed,
            IndexSpec(cls.collection_name, (("externalKeys", 1),), unique=True),
            # Finds the customers whose search tokens were built by an older version, in one index range.
            IndexSpec(cls.collection_name, (("searchTokensVersion", 1),)),
        ]

    @staticmethod
    def to_document(customer: Customer) -> Document:
        address = customer.address
        return {
            "_id": customer.id,
            "givenName": customer.given_name,
            "familyName": customer.family_name,
            "sortName": search.sort_name(customer.given_name, customer.family_name),
            "emails": list(customer.emails),
            "phones": list(customer.phones),
            "address": (
                {
                    "street": address.street,
                    "city": address.city,
                    "postalCode": address.postal_code,
                    "country": address.country,
                }
                if address
                else None
            ),
            "birthDate": date_doc(customer.birth_date),
            "externalIds": [{"system": e.system, "id": e.id} for e in customer.external_ids],
            "externalKeys": [external_key(e) for e in customer.external_ids],
            "segment": customer.segment.value,
            "tier": customer.tier.value,
            "region": customer.region,
            "ownerId": customer.owner_id,
            "status": customer.status.value,
            "churnedAt": customer.churned_at,
            "lifetimeValue": money_doc(customer.lifetime_value),
            "consent": {
                "email": customer.consent.email,
                "sms": customer.consent.sms,
                "phone": customer.consent.phone,
                "marketing": customer.consent.marketing,
            },
            "tags": list(customer.tags),
            "searchTokens": search.index_tokens((customer.given_name, customer.family_name), customer.emails),
            "nameTokens": search.name_tokens((customer.given_name, customer.family_name)),
            "searchTokensVersion": search.TOKENS_VERSION,
            "createdAt": customer.created_at,
            "updatedAt": customer.updated_at,
            "version": customer.version,
        }

    @staticmethod
    def from_document(document: Document) -> Customer:
        address = document.get("address")
        consent = document.get("consent") or {}
        return Customer(
            id=document["_id"],
            given_name=document["givenName"],
            family_name=document["familyName"],
            emails=tuple(document.get("emails", ())),
            phones=tuple(document.get("phones", ())),
            address=(
                Address(address["street"], address["city"], address["postalCode"], address["country"])
                if address
                else None
            ),
            birth_date=date_from(document.get("birthDate")),
            external_ids=tuple(ExternalId(e["system"], e["id"]) for e in document.get("externalIds", ())),
            segment=Segment(document["segment"]),
            tier=Tier(document["tier"]),
            region=document["region"],
            owner_id=document.get("ownerId"),
            status=CustomerStatus(document["status"]),
            churned_at=document.get("churnedAt"),
            lifetime_value=money_from(document["lifetimeValue"]),
            consent=Consent(
                email=bool(consent.get("email")),
                sms=bool(consent.get("sms")),
                phone=bool(consent.get("phone")),
                marketing=bool(consent.get("marketing")),
            ),
            tags=tuple(document.get("tags", ())),
            created_at=document["createdAt"],
            updated_at=document["updatedAt"],
            version=int(document.get("version", 1)),
        )

    async def insert_many(
        self, customers: Iterable[Customer], *, session: Session | None = None, count_lifecycles: bool = True
    ) -> None:
        """Store new customers in one bulk write, and count them into the lifecycle cells (in ``session``'s
        transaction when given). ``count_lifecycles`` False: the caller writes the cells whole itself, as
        bulk loads do."""
        stored = list(customers)
        if stored:
            await self._collection.insert_many(
                [self.to_document(c) for c in stored], ordered=False, session=session
            )
            if count_lifecycles:
                await self._lifecycles.change([], [lifecycle_of(c) for c in stored], session=session)

    async def refresh_search_tokens(self, *, batch: int = 200) -> int:
        """Rebuilds the search tokens of customers stored with an older ``search.TOKENS_VERSION`` (see
        ``backfill``): only the derived tokens are written, not the profile's version or update time, and a
        customer changed meanwhile (another version) is skipped. How many customers it rebuilt."""
        # Every older version by equality (and None: stored before versions), so the index answers it.
        stale = narrowed(
            {"searchTokensVersion": {"$in": [None, *range(1, search.TOKENS_VERSION)]}}, self._scope
        )
        fields = {"givenName": 1, "familyName": 1, "emails": 1, "version": 1}
        return await backfill(self._collection, stale, fields, _current_tokens, batch=batch)

    async def get_many(self, ids: Sequence[str]) -> dict[str, Customer]:
        """The customers in scope with these ids, by id."""
        query = narrowed({"_id": {"$in": list(ids)}}, self._scope)
        return {d["_id"]: self.from_document(d) async for d in self._collection.find(query)}

    async def lifecycles(self, *, regions: Sequence[str], segments: Sequence[str]) -> list[Lifecycle]:
        """When each customer in scope (of these regions and segments, if given) joined and churned."""
        wanted = any_of(region=regions, segment=segments)
        fields = {"region": 1, "segment": 1, "createdAt": 1, "churnedAt": 1}
        return [
            Lifecycle(d["_id"], d["region"], d["segment"], d["createdAt"], d.get("churnedAt"))
            async for d in self._collection.find(narrowed(wanted, self._scope), fields)
        ]

    async def ids(self, *, batch: int) -> AsyncIterator[list[str]]:
        """The ids of every customer in scope, ``batch`` at a time (to recompute what derives from them)."""
        chunk: list[str] = []
        async for document in self._collection.find(narrowed({}, self._scope), {"_id": 1}):
            chunk.append(document["_id"])
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    async def by_external_id(self, external_id: ExternalId) -> Customer | None:
        """The customer in scope known by ``external_id`` in another system, if any."""
        document = await self._collection.find_one(
            narrowed({"externalKeys": external_key(external_id)}, self._scope)
        )
        return self.from_document(document) if document else None

    async def by_external_keys(self, external_ids: Iterable[ExternalId]) -> dict[ExternalId, Customer]:
        """The customers in scope known by these external ids, one command per ``LOOKUP_CHUNK`` ids."""
        wanted = {external_key(e): e for e in external_ids}
        keys = list(wanted)
        found: dict[ExternalId, Customer] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            query = narrowed({"externalKeys": {"$in": keys[start : start + LOOKUP_CHUNK]}}, self._scope)
            async for document in self._collection.find(query):
                for key in document.get("externalKeys", ()):
                    if key in wanted:
                        found[wanted[key]] = self.from_document(document)
        return found

    async def upsert_by_external_id(
        self, customers: Sequence[Customer], *, now: datetime, uow: UnitOfWork | None = None
    ) -> Upserted:
        """Creates the customers no one knows by their (first) external id and updates the changed ones.

        An update keeps the stored id, creation time and other external ids, and bumps the version only
        when something changed, so importing the same rows again changes nothing. Each update, and the
        creations together, are one transaction of ``uow`` with their lifecycle cells: a batch retried
        after a conflict counts every customer once.
        """
        existing = await self.by_external_keys(c.external_ids[0] for c in customers)
        created: list[Customer] = []
        updated = unchanged = 0
        for customer in customers:
            old = existing.get(customer.external_ids[0])
            if old is None:
                created.append(customer.churn_dated(None, now))
                continue
            merged = replace(
                customer.churn_dated(old, now),
                id=old.id,
                external_ids=tuple(dict.fromkeys((*old.external_ids, *customer.external_ids))),
                created_at=old.created_at,
                updated_at=old.updated_at,
                version=old.version,
            )
            if merged == old:
                unchanged += 1
                continue
            changed = replace(merged, updated_at=now, version=old.version + 1)
            await _atomically(uow, functools.partial(self._replace, old, changed))
            updated += 1
        if created:
            await _atomically(uow, functools.partial(self._insert_created, created))
        return Upserted(created=len(created), updated=updated, unchanged=unchanged)

    async def _replace(self, old: Customer, changed: Customer, session: Session | None) -> None:
        result = await self._collection.replace_one(
            {"_id": old.id, "version": old.version}, self.to_document(changed), session=session
        )
        if result.matched_count != 1:
            raise Conflict(f"customer {old.id} changed while it was being imported")
        await self._lifecycles.change([lifecycle_of(old)], [lifecycle_of(changed)], session=session)

    async def _insert_created(self, created: list[Customer], session: Session | None) -> None:
        await self.insert_many(created, session=session)

    def page_of(self, documents: Sequence[Document], first: int) -> Page[Customer]:
        """The page of ``first`` customers among ``documents`` read with a limit of ``first + 1``."""
        return Page([self.from_document(d) for d in documents[:first]], has_next=len(documents) > first)

    # The same reads as stages: the start of one pipeline that reads a whole query (``read``).

    def list_page(self, where: CustomerFilter, *, first: int, after: str | None = None) -> BoundedPage:
        """``list`` as stages: the page's customers in name order, and one more (see ``page_of``).

        Bounded by the sort name the same page ended at when last read whole: without that, the embedded
        database reads every customer in scope (all of a company's for a member of every region) and
        sorts them before the limit, whatever the indexes. The caller reads it with ``BoundedPage.read``,
        which reads it again whole when the bound left it short.
        """
        query = narrowed(_query(where), self._scope)
        position = _position(after, field="after")

        def stages(until: str | None) -> list[Document]:
            return keyset_page(query, SORT_NAME, limit=first + 1, after=position, until=until)

        # A bounded read reads every customer up to the bound, matching or not: worth it for the broad lists,
        # every customer of some regions. A narrower filter may pick a few customers, which its own index
        # can find alone (an owner's 54 of 1,000 without a region scope: 3 ms of the embedded database's
        # time unbounded, 10 ms bounded); those pages are read as before.
        key = (self._collection.full_name, repr(query), position, first) if where.by_region_only else None
        return self._page_ends.page(key, stages, limit=first + 1, end_of=_sort_name_of)

    def by_id_stages(self, customer_id: str) -> list[Document]:
        """The customer in scope with this id, if any."""
        return [{"$match": narrowed({"_id": customer_id}, self._scope)}]

    def by_external_id_stages(self, external_id: ExternalId) -> list[Document]:
        """The customer in scope known by ``external_id`` in another system, if any."""
        return [{"$match": narrowed({"externalKeys": external_key(external_id)}, self._scope)}, {"$limit": 1}]

    async def read(self, pipeline: Sequence[Document]) -> list[Document]:
        """What a pipeline over the customers collection answers (one command)."""
        return await (await self._collection.aggregate(list(pipeline))).to_list(None)

    async def list(self, where: CustomerFilter, *, first: int, after: str | None = None) -> Page[Customer]:
        """A page of customers in scope matching ``where``, in name order, after the position ``after``."""
        page = self.list_page(where, first=first, after=after)
        return self.page_of(await page.read(self.read, lambda documents: documents), first)

    async def list_before(
        self, where: CustomerFilter, *, last: int, before: str | None = None
    ) -> Page[Customer]:
        """The ``last`` customers in scope matching ``where`` before the position ``before`` (or at the end).

        The same index read the other way: items come in name order, and ``has_next`` says whether more
        customers precede them.
        """
        position = _position(before, field="before")
        query = narrowed(_query(where), self._scope)
        documents = await self.read(
            keyset_page(query, SORT_NAME, limit=last + 1, after=position, descending=True)
        )
        items = [self.from_document(d) for d in reversed(documents[:last])]
        return Page(items, has_next=len(documents) > last)


def _position(cursor: str | None, *, field: str) -> tuple[str, str] | None:
    """The place in name order a list cursor stands for: a sort name and a customer id (None: no cursor)."""
    if cursor is None:
        return None
    sort_key, customer_id = decode_cursor(CURSOR_KIND, cursor, parts=2, field=field)
    return sort_key, customer_id


def _sort_name_of(document: Mapping[str, Any]) -> str:
    """The key a customer's document is listed by, as stored (``to_document``)."""
    name: str = document[SORT_NAME]
    return name


def _current_tokens(document: Document) -> tuple[Document, Document]:
    """A stored customer's search tokens as this version builds them, from its names and emails (read at
    its version)."""
    names = (document.get("givenName", ""), document.get("familyName", ""))
    tokens = {
        "searchTokens": search.index_tokens(names, document.get("emails", ())),
        "nameTokens": search.name_tokens(names),
        "searchTokensVersion": search.TOKENS_VERSION,
    }
    return {"version": document.get("version")}, tokens


def lifecycle_of(customer: Customer) -> Lifecycle:
    """When a customer joined and churned, and its region and segment: what its lifecycle cells count."""
    return Lifecycle(
        customer.id,
        customer.region,
        customer.segment.value,
        _stored(customer.created_at),
        _stored(customer.churned_at),
    )


@overload
def _stored(instant: datetime) -> datetime: ...
@overload
def _stored(instant: None) -> None: ...
def _stored(instant: datetime | None) -> datetime | None:
    """An instant as the database keeps it (to the millisecond, truncated), as the raw count reads it."""
    return instant if instant is None else instant.replace(microsecond=instant.microsecond // 1000 * 1000)


async def _atomically(uow: UnitOfWork | None, work: Callable[[Session | None], Awaitable[None]]) -> None:
    """``work`` in one transaction of ``uow`` (without one: its writes one by one)."""
    if uow is None:
        await work(None)
    else:
        await uow.run(work)


def cursor_of(customer: Customer) -> str:
    """The cursor that points just after ``customer`` in the name-ordered list."""
    return encode_cursor(
        CURSOR_KIND, search.sort_name(customer.given_name, customer.family_name), customer.id
    )


def _query(where: CustomerFilter) -> dict[str, Any]:
    clauses: dict[str, Any] = {}
    if where.regions:
        clauses["region"] = {"$in": list(where.regions)}
    if where.segments:
        clauses["segment"] = {"$in": [s.value for s in where.segments]}
    if where.status is not None:
        clauses["status"] = where.status.value
    if where.owner_id is not None:
        clauses["ownerId"] = where.owner_id
    if where.tags:
        clauses["tags"] = {"$all": list(where.tags)}
    if where.search is not None:
        clauses.update(_search(where.search, where.search_in))
    return clauses


def _search(text: str, kinds: frozenset[WordKind]) -> dict[str, Any]:
    """Every word of ``text`` begins a word of the kinds given (or ``text`` is a whole e-mail address)."""
    terms = search.query_terms(text)
    if not terms:
        raise InvalidInput("search needs a word of at least two letters or digits", field="search")
    if WordKind.EMAIL in kinds and WordKind.NAME in kinds:
        return {"searchTokens": {"$all": terms}}
    if WordKind.NAME not in kinds:
        raise Forbidden("searching customers needs their names in full", field="search")
    if search.is_address(text):
        raise Forbidden("searching by e-mail address needs the e-mails in full", field="search")
    return {"nameTokens": {"$all": terms}}
