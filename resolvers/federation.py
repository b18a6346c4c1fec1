"""Apollo Federation: the schema as a subgraph that a supergraph can compose.

Every type with a global id is an entity keyed by ``id``. ``_entities`` loads representations exactly as
``node`` loads ids (``resolvers/lookup.py``): within the caller's rows, and through the same types, so the
same guards mask, hide and audit their fields. Both root fields have their entry in the policy table.
Federation is off unless the server is configured for it; ``schema.graphql`` stays the plain schema and
``subgraph.graphql`` is the subgraph's SDL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Annotated, Any, Final

import strawberry
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key

from domain.errors import DomainError, Forbidden, InvalidInput
from resolvers.alerts.types import Alert
from resolvers.context import Info
from resolvers.crm.types import Case, Interaction, Opportunity, Transaction
from resolvers.customers.types import Customer
from resolvers.employees.types import Employee
from resolvers.feedback.types import Feedback
from resolvers.lookup import NODE_TYPES, load_node
from resolvers.node import Node, decode_global_id

ENTITY_KEY = "id"
FEDERATION_VERSION: Final = "2.11"

Entity = Annotated[
    Customer | Employee | Transaction | Interaction | Case | Feedback | Opportunity | Alert,
    strawberry.union("_Entity", description="Every entity of this subgraph: the types with a global id."),
]


@contextlib.contextmanager
def entity_keys() -> Iterator[None]:
    """``@key(fields: "id")`` on every type with a global id, while a federated schema is built.

    The plain schema is built from the same types without it, so the key is only there meanwhile; the
    federated schema keeps its SDL as printed then (``FederatedSchema.subgraph_sdl``).
    """
    definitions = [node_type.__strawberry_definition__ for node_type in NODE_TYPES]  # type: ignore[attr-defined]
    saved = [definition.directives for definition in definitions]
    for definition in definitions:
        definition.directives = (*definition.directives, Key(fields=ENTITY_KEY))  # type: ignore[arg-type]
    try:
        yield
    finally:
        for definition, directives in zip(definitions, saved, strict=True):
            definition.directives = directives


@strawberry.type(name="_Service", description="This subgraph, as a supergraph's composition reads it.")
class Service:
    sdl: str = strawberry.field(description="The subgraph's schema in SDL, with its federation directives.")


@strawberry.type
class FederationQueries:
    """The two root fields a federation router calls on a subgraph."""

    @strawberry.field(
        name="_service",
        description="This subgraph's SDL for composition; answered when introspection is on (compose "
        "production from the committed `subgraph.graphql`).",
    )
    def service(self, info: Info) -> Service:
        if not info.context.settings.introspection_enabled:
            raise Forbidden("the subgraph schema is not served when introspection is off")
        sdl: str = info.schema.subgraph_sdl  # type: ignore[attr-defined]
        return Service(sdl=sdl)

    @strawberry.field(
        name="_entities",
        description="Entities by their representations `{__typename, id}` (id: the global id), in order; "
        "each is null when there is no such record or it is outside your rows, as with `node`.",
    )
    async def entities(
        self,
        info: Info,
        representations: Annotated[
            list[FederationAny],
            strawberry.argument(description="The entities to resolve: `{__typename, id}` each."),
        ],
    ) -> list[Entity | None]:
        found = await asyncio.gather(*(_entity(info, r) for r in representations))
        return list(found)


async def _entity(info: Info, representation: Any) -> Any:
    """One representation's entity; a malformed one is that item's error, not the whole list's."""
    try:
        if not isinstance(representation, dict):
            raise InvalidInput("a representation is an object {__typename, id}", field="representations")
        type_name, global_id = representation.get("__typename"), representation.get(ENTITY_KEY)
        if not isinstance(type_name, str) or not isinstance(global_id, str):
            raise InvalidInput("a representation needs __typename and id strings", field="representations")
        if type_name not in {t.__name__ for t in NODE_TYPES}:
            raise InvalidInput(f"{type_name!r} is not an entity of this subgraph", field="representations")
        found_type, record_id = decode_global_id(global_id)
    except DomainError as error:
        return error
    if found_type != type_name:
        return None
    node: Node | None = await load_node(info, type_name, record_id)
    return node
