"""The schema: root query assembled from each area's queries, with the execution extensions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

import strawberry
import strawberry.federation
from graphql import GraphQLError
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.graphql import OperationType

from auth.policy import RoleView
from auth.principal import Role
from resolvers.aggregates.churn import ChurnQueries
from resolvers.aggregates.complaints import ComplaintQueries
from resolvers.aggregates.compliance import ComplianceQueries
from resolvers.aggregates.experience import ExperienceQueries
from resolvers.aggregates.experience_value import ExperienceValueQueries
from resolvers.aggregates.loop_performance import LoopPerformanceQueries
from resolvers.aggregates.recurring import RecurringQueries
from resolvers.aggregates.risk import RiskQueries
from resolvers.alerts.mutations import AlertMutations
from resolvers.alerts.queries import AlertQueries
from resolvers.alerts.subscriptions import AlertSubscriptions
from resolvers.audit.queries import AuditQueries
from resolvers.audit.writer import AuditWriter
from resolvers.caches import CachedParsing, CachedValidation
from resolvers.context import Context, Info
from resolvers.cost.extension import OperationLimits
from resolvers.crm.mutations import CaseMutations
from resolvers.customers.queries import CustomerQueries
from resolvers.digest.queries import DigestQueries
from resolvers.digest.subscriptions import DigestSubscriptions
from resolvers.errors import StreamedErrorCodes
from resolvers.fastpath import compiled_executor
from resolvers.federation import FEDERATION_VERSION, FederationQueries, entity_keys
from resolvers.feedback.mutations import FeedbackMutations
from resolvers.feedback.subscriptions import FeedbackSubscriptions
from resolvers.guards import (
    ROOT,
    attach_guards,
    guarded_fields,
    missing_guards,
    role_view,
    unenforced_selectors,
)
from resolvers.introspection import IntrospectionOffLoop
from resolvers.lists.mutations import ListMutations
from resolvers.lists.queries import ListQueries
from resolvers.lookup import NODE_TYPES, load_node
from resolvers.node import Node, decode_global_id
from resolvers.standards.mutations import StandardMutations
from resolvers.standards.queries import StandardQueries
from resolvers.standing.queries import WorklistQueries
from resolvers.tactical.queries import TacticalQueries
from resolvers.viewer.queries import ViewerQueries

NodeIdArg = Annotated[strawberry.ID, strawberry.argument(description="Global id of the object.")]


@strawberry.type(description="Entry points for reading the customer graph.")
class Query(
    CustomerQueries,
    ViewerQueries,
    AuditQueries,
    AlertQueries,
    StandardQueries,
    TacticalQueries,
    ExperienceQueries,
    ComplaintQueries,
    ComplianceQueries,
    RiskQueries,
    ChurnQueries,
    ListQueries,
    LoopPerformanceQueries,
    RecurringQueries,
    DigestQueries,
    ExperienceValueQueries,
    WorklistQueries,
):
    @strawberry.field(description="Any object by its global id; null when there is no such object.")
    async def node(self, info: Info, id: NodeIdArg) -> Node | None:
        type_name, record_id = decode_global_id(id)
        return await load_node(info, type_name, record_id)


class Customer360Schema(strawberry.Schema):
    """The schema; errors are classified, and unexpected ones logged once, by the HTTP view (HTTP) and
    ``StreamedErrorCodes`` (WebSocket)."""

    role_views: dict[Role, RoleView]

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Runs an operation of a WebSocket (strawberry's WebSocket handlers come here; HTTP executes with a
        context per request) on a context of its own, with the time limit its connection set
        (``OPERATION_DEADLINE``).

        Strawberry hands every operation of a connection the one context it made for it: without this a
        submission an hour into the connection was stamped with the time it opened, a query saw what an
        earlier one had loaded, the loaders grew for as long as the socket lived, and operations running
        at once shared their audit and the executor's flags.
        """
        if isinstance(context_value, Context):
            context_value = context_value.for_operation()
        return await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )


class FederatedSchema(strawberry.federation.Schema, Customer360Schema):
    """The schema as an Apollo Federation subgraph (``resolvers/federation.py``)."""

    subgraph_sdl: str


@strawberry.type(
    description="Live events over WebSocket (graphql-transport-ws), filtered by your role and rows."
)
class Subscription(AlertSubscriptions, FeedbackSubscriptions, DigestSubscriptions):
    pass


@strawberry.type(
    description="Changes: feedback intake, cases, the alert lifecycle, service standards and managed lists."
)
class Mutation(FeedbackMutations, CaseMutations, AlertMutations, StandardMutations, ListMutations):
    pass


def build_schema(
    query: type = Query, *, compiled: bool = False, federation: bool = False
) -> Customer360Schema:
    """The schema with the policy table enforced, parse and validation caches, and the audit writer.

    It is built twice: the first build tells which fields need a guard, the second includes the guards.
    ``compiled`` runs queries through cached plans (``resolvers/fastpath``) instead of the stock executor;
    ``federation`` builds it as an Apollo Federation subgraph, with ``_service`` and ``_entities``.
    """
    executor = compiled_executor() if compiled else IntrospectionOffLoop
    root = _federated(query) if federation else query
    options: dict[str, Any] = {
        "query": root,
        "mutation": Mutation,
        "subscription": Subscription,
        "types": list(NODE_TYPES),
        # OperationLimits first: it caps parsing and refuses over-limit documents before validation.
        "extensions": [OperationLimits, CachedParsing, CachedValidation, AuditWriter, StreamedErrorCodes],
        "config": StrawberryConfig(auto_camel_case=True),
        "execution_context_class": executor,
    }

    def build() -> Customer360Schema:
        if not federation:
            return Customer360Schema(**options)
        with entity_keys():
            federated = FederatedSchema(**options, federation_version=FEDERATION_VERSION)
            federated.subgraph_sdl = print_schema(federated) + "\n"
        return federated

    draft = build()
    guarded = guarded_fields(draft._schema)
    attach_guards(_object_definitions(draft), guarded, draft.config.name_converter.get_graphql_name)
    schema = build()
    if missing := missing_guards(
        _object_definitions(schema), guarded, schema.config.name_converter.get_graphql_name
    ):
        raise RuntimeError(f"policy guards missing on {missing}")
    if unenforced := unenforced_selectors(schema._schema):
        raise RuntimeError(
            f"nested lists compare what some of their readers cannot see in full: {unenforced}"
        )
    schema.role_views = {role: role_view(schema._schema, role) for role in Role}
    return schema


def _federated(query: type) -> type:
    """``query`` with the root fields a federation router calls."""
    definition: StrawberryObjectDefinition = query.__strawberry_definition__  # type: ignore[attr-defined]
    return strawberry.type(
        type("Query", (FederationQueries, query), {}), name=ROOT, description=definition.description
    )


def _object_definitions(schema: strawberry.Schema) -> list[tuple[str, StrawberryObjectDefinition]]:
    """Each object type's strawberry definition under its GraphQL name."""
    root = schema._schema.query_type
    assert root is not None
    assert root.name == ROOT, f"the root query type must be named {ROOT}"
    found = ((name, schema.get_type_by_name(name)) for name in schema._schema.type_map)
    return [(name, d) for name, d in found if isinstance(d, StrawberryObjectDefinition)]


def schema_sdl() -> str:
    """The schema in SDL, as committed in ``schema.graphql``."""
    return build_schema().as_str() + "\n"


def subgraph_sdl() -> str:
    """The federated schema in SDL, as ``_service { sdl }`` answers and ``subgraph.graphql`` holds it."""
    schema = build_schema(federation=True)
    assert isinstance(schema, FederatedSchema)
    return schema.subgraph_sdl
