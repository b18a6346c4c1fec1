"""Root queries over customers."""

from __future__ import annotations

from typing import Annotated

import strawberry

from auth.policy import search_kinds
from domain.customers.models import CustomerFilter as DomainCustomerFilter
from domain.customers.models import ExternalId
from domain.customers.repository import cursor_of
from domain.customers.search import WordKind
from domain.errors import InvalidInput
from resolvers.context import Info
from resolvers.customers.types import Customer, CustomerConnection
from resolvers.enums import CustomerStatus, Segment
from resolvers.node import expect_global_id
from resolvers.pagination import AfterArg, BeforeArg, ForwardArg, LastArg, build_edges, page_size
from resolvers.pipeline import pipeline_read


@strawberry.input(name="CustomerFilter", description="Which customers to list; every part given must match.")
class CustomerFilterInput:
    regions: list[str] | None = strawberry.field(default=None, description="Any of these regions.")
    segments: list[Segment] | None = strawberry.field(default=None, description="Any of these segments.")
    status: CustomerStatus | None = strawberry.field(default=None, description="This status.")
    owner_id: strawberry.ID | None = strawberry.field(default=None, description="Owned by this employee.")
    tags: list[str] | None = strawberry.field(default=None, description="Tagged with all of these tags.")

    def to_domain(self, search: str | None, search_in: frozenset[WordKind]) -> DomainCustomerFilter:
        return DomainCustomerFilter(
            regions=tuple(self.regions or ()),
            segments=tuple(self.segments or ()),
            status=self.status,
            owner_id=expect_global_id(self.owner_id, "Employee") if self.owner_id is not None else None,
            tags=tuple(self.tags or ()),
            search=search,
            search_in=search_in,
        )


IdArg = Annotated[strawberry.ID, strawberry.argument(description="Global id of the customer.")]
SystemArg = Annotated[str, strawberry.argument(description="The other system, e.g. crm, shop or billing.")]
ExternalIdArg = Annotated[str, strawberry.argument(description="The customer's id in that system.")]
FilterArg = Annotated[
    CustomerFilterInput | None, strawberry.argument(name="filter", description="Which customers to list.")
]
SearchArg = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "Words the name or e-mail must start with, or a whole e-mail address. Only what the caller sees "
            "in full is searched: a role shown e-mails masked searches names, and may not search by address."
        )
    ),
]


@strawberry.type
class CustomerQueries:
    @strawberry.field(description="One customer by global id; null when there is no such customer.")
    async def customer(self, info: Info, id: IdArg) -> Customer | None:
        customer_id = expect_global_id(id, "Customer")
        if (read := pipeline_read(info)) is not None:
            found = await read.one(info.context.repos.customers.by_id_stages(customer_id))
        else:
            found = await info.context.loaders.customers.load(customer_id)
        return Customer.of(found) if found is not None else None

    @strawberry.field(
        description="Customers in name order, filtered and searched, a page at a time: forward with "
        "`first`/`after`, or backward with `last`/`before` (one of `first` and `last` is required)."
    )
    async def customers(
        self,
        info: Info,
        first: ForwardArg = None,
        after: AfterArg = None,
        filter_: FilterArg = None,
        search: SearchArg = None,
        last: LastArg = None,
        before: BeforeArg = None,
    ) -> CustomerConnection:
        maximum = info.context.settings.max_page_size
        # A search looks only at the kinds of words (names, e-mails) the caller sees in full.
        search_in = search_kinds(info.context.principal.role)
        where = (filter_ or CustomerFilterInput()).to_domain(search, search_in)
        repository = info.context.repos.customers
        # Backward pages read through the loaders; forward ones in one pipeline when the query compiles.
        read = None
        if last is not None:
            if first is not None or after is not None:
                raise InvalidInput("page with first/after or with last/before, not both", field="last")
            limit = page_size(last, maximum, field="last")
            page = await repository.list_before(where, last=limit, before=before)
        else:
            if first is None:
                raise InvalidInput("first (or last) is required", field="first")
            if before is not None:
                raise InvalidInput("before goes with last", field="before")
            limit = page_size(first, maximum)
            if (read := pipeline_read(info)) is not None:
                page = await read.page(repository.list_page(where, first=limit, after=after), first=limit)
            else:
                page = await repository.list(where, first=limit, after=after)
        if read is None:
            for customer in page.items:
                info.context.loaders.customers.prime(customer.id, customer)
        edges, page_info = build_edges(page, Customer.of, cursor_of, backward=last is not None, before=before)
        return CustomerConnection(edges=edges, page_info=page_info)

    @strawberry.field(description="The calling customer's own profile (customer role).")
    async def me(self, info: Info) -> Customer | None:
        subject = info.context.principal.subject
        if (read := pipeline_read(info)) is not None:
            found = await read.one(info.context.repos.customers.by_id_stages(subject))
        else:
            found = await info.context.loaders.customers.load(subject)
        return Customer.of(found) if found is not None else None

    @strawberry.field(
        description="A customer by its id in another system, for reconciliation (integration role)."
    )
    async def customer_by_external_id(
        self, info: Info, system: SystemArg, id: ExternalIdArg
    ) -> Customer | None:
        external_id = ExternalId(system, id)
        customers = info.context.repos.customers
        if (read := pipeline_read(info)) is not None:
            found = await read.one(customers.by_external_id_stages(external_id))
        else:
            found = await customers.by_external_id(external_id)
        return Customer.of(found) if found is not None else None
