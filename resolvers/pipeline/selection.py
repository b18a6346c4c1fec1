"""What a query selects of the customers a root field returns, compiled once per document.

The walk follows graphql-core's field collection (fragments, type conditions, ``@skip``/``@include``) from
the customer type down and notes what the one pipeline has to read: the owner, each record connection
with its arguments and whether its total is shown, each timeline, the metrics, and the references of the
records shown (employees, the alert a response raised). Every other field that reads through a loader is
listed in ``fallbacks``: it is loaded on demand, as without the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    FieldNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_subfields,
)
from graphql.execution.values import VariableValues
from strawberry.types.field import StrawberryField

from domain.timeline import TimelineKind
from resolvers.pipeline.completion import ConnectionCompletion, connection_completion
from resolvers.record_kinds import RECORD_KINDS

DEFINITION = "strawberry-definition"  # where strawberry keeps a field's definition on the GraphQL field

# The customer's record connections, by field name (also the name of their repository and loaders).
CONNECTIONS: dict[str, TimelineKind] = {
    "transactions": TimelineKind.TRANSACTION,
    "interactions": TimelineKind.INTERACTION,
    "cases": TimelineKind.CASE,
    "feedback": TimelineKind.FEEDBACK,
    "opportunities": TimelineKind.OPPORTUNITY,
    "alerts": TimelineKind.ALERT,
}
KIND_OF_TYPE = {spec.type_name: kind for kind, spec in RECORD_KINDS.items()}
# References to employees the pipeline reads, by record type and field.
STAFF = {
    ("Interaction", "employee"),
    ("Case", "assignee"),
    ("Opportunity", "owner"),
    ("Alert", "assignee"),
    ("Alert", "escalatedTo"),
    ("AlertStep", "assignee"),
}
# Fields answered from the alert each response raised.
FEEDBACK_ALERT = {("Feedback", "status"), ("Feedback", "reply")}


class Unsupported(Exception):
    """The selection uses something the compiler does not handle (``@defer``): loaders read it all."""


@dataclass(frozen=True, slots=True)
class ConnectionRead:
    """One selected record connection of the customer: its kind, field and node (for the arguments)."""

    kind: TimelineKind
    field: GraphQLField
    node: FieldNode
    count: bool  # totalCount is selected
    # How its pages are completed from the documents, when it selects only what they hold.
    completion: ConnectionCompletion | None = None


@dataclass(frozen=True, slots=True)
class TimelineRead:
    """One selected timeline of the customer (its arguments are read per request)."""

    field: GraphQLField
    node: FieldNode


@dataclass(slots=True)
class Selection:
    """What one root field's customers need read, besides their profiles."""

    owner: bool = False
    connections: list[ConnectionRead] = field(default_factory=list)
    timelines: list[TimelineRead] = field(default_factory=list)
    metrics: bool = False
    staff: set[TimelineKind] = field(default_factory=set)  # kinds whose records' employees are shown
    feedback_alerts: bool = False  # the alerts the responses shown raised
    fallbacks: list[str] = field(default_factory=list)  # "Type.field" read by loaders on demand

    @property
    def profile_only(self) -> bool:
        """Whether the profiles are all the pipeline reads."""
        return not (self.owner or self.connections or self.timelines or self.metrics)


def reads_data(graphql_field: GraphQLField) -> bool:
    """Whether a field awaits something: the fields that read through the request's loaders."""
    definition = graphql_field.extensions.get(DEFINITION)
    return isinstance(definition, StrawberryField) and definition.is_async


class Compiler:
    """Walks one operation's selections as graphql-core collects them."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        variables: VariableValues,
        operation: OperationDefinitionNode,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        self._operation = operation

    def connection_of_customers(self, connection: GraphQLObjectType, details: FieldDetailsList) -> Selection:
        """The selection of the customers of a ``CustomerConnection`` (``customers``)."""
        selection = Selection()
        for name, edge_details in self._fields(connection, details):
            if name == "nodes":
                self._customer(_object(connection.fields[name]), edge_details, selection)
                continue
            if name != "edges":
                self._below(connection.fields[name], edge_details, selection)
                continue
            edge = _object(connection.fields[name])
            for node_name, node_details in self._fields(edge, edge_details):
                if node_name == "node":
                    self._customer(_object(edge.fields[node_name]), node_details, selection)
                else:
                    self._below(edge.fields[node_name], node_details, selection)
        return selection

    def customer(self, customer: GraphQLObjectType, details: FieldDetailsList) -> Selection:
        """The selection of a customer returned by a root field."""
        selection = Selection()
        self._customer(customer, details, selection)
        return selection

    def _customer(self, customer: GraphQLObjectType, details: FieldDetailsList, into: Selection) -> None:
        for name, fields in self._fields(customer, details):
            graphql_field = customer.fields[name]
            if name == "owner":
                into.owner = True
                self._plain(_object(graphql_field), fields, into)
            elif name in CONNECTIONS:
                into.connections.append(
                    self._connection(CONNECTIONS[name], customer, graphql_field, fields, into)
                )
            elif name == "timeline":
                into.timelines.append(TimelineRead(graphql_field, fields[0].node))
                self._timeline(_object(graphql_field), fields, into)
            elif name == "metrics":
                into.metrics = True
                self._plain(_object(graphql_field), fields, into)
            elif reads_data(graphql_field):
                into.fallbacks.append(f"Customer.{name}")
            else:
                self._below(graphql_field, fields, into)

    def _connection(
        self,
        kind: TimelineKind,
        customer: GraphQLObjectType,
        graphql_field: GraphQLField,
        details: FieldDetailsList,
        into: Selection,
    ) -> ConnectionRead:
        connection = _object(graphql_field)
        count = False
        for name, fields in self._fields(connection, details):
            if name == "totalCount":
                count = True
            elif name == "nodes":
                self._record(kind, _object(connection.fields[name]), fields, into)
            elif name == "edges":
                edge = _object(connection.fields[name])
                for edge_name, edge_fields in self._fields(edge, fields):
                    if edge_name == "node":
                        self._record(kind, _object(edge.fields[edge_name]), edge_fields, into)
                    else:
                        self._below(edge.fields[edge_name], edge_fields, into)
            else:
                self._below(connection.fields[name], fields, into)
        cursor = RECORD_KINDS[kind].document_cursor
        completion = connection_completion(self._collect, customer, graphql_field, details, cursor)
        return ConnectionRead(kind, graphql_field, details[0].node, count, completion)

    def _timeline(self, connection: GraphQLObjectType, details: FieldDetailsList, into: Selection) -> None:
        for name, fields in self._fields(connection, details):
            if name == "nodes":
                self._records(connection.fields[name], fields, into)
                continue
            if name != "edges":
                self._below(connection.fields[name], fields, into)
                continue
            edge = _object(connection.fields[name])
            for edge_name, edge_fields in self._fields(edge, fields):
                if edge_name == "node":
                    self._records(edge.fields[edge_name], edge_fields, into)
                else:
                    self._below(edge.fields[edge_name], edge_fields, into)

    def _records(self, graphql_field: GraphQLField, details: FieldDetailsList, into: Selection) -> None:
        """A timeline's records, of every kind its union holds."""
        union = get_named_type(graphql_field.type)
        assert isinstance(union, GraphQLAbstractType)
        for record in self._schema.get_possible_types(union):
            self._record(KIND_OF_TYPE[record.name], record, details, into)

    def _record(
        self, kind: TimelineKind, record: GraphQLObjectType, details: FieldDetailsList, into: Selection
    ) -> None:
        for name, fields in self._fields(record, details):
            graphql_field = record.fields[name]
            if (record.name, name) in STAFF:
                into.staff.add(kind)
                self._plain(_object(graphql_field), fields, into)
            elif (record.name, name) in FEEDBACK_ALERT:
                into.feedback_alerts = True
                self._below(graphql_field, fields, into)
            elif name == "customer":
                # The record's customer is the one whose records these are, read with them; anything
                # the nested selection reads beyond its profile is loaded on demand.
                nested = Selection()
                self._customer(_object(graphql_field), fields, nested)
                if not nested.profile_only:
                    into.fallbacks.append(f"{record.name}.customer (beyond the profile)")
                into.fallbacks += nested.fallbacks
            elif name == "history" and record.name == "Alert":
                step = _object(graphql_field)
                for step_name, step_fields in self._fields(step, fields):
                    if (step.name, step_name) in STAFF:
                        into.staff.add(kind)
                    self._below(step.fields[step_name], step_fields, into)
            elif reads_data(graphql_field):
                into.fallbacks.append(f"{record.name}.{name}")
            else:
                self._below(graphql_field, fields, into)

    def _plain(self, graphql_type: GraphQLObjectType, details: FieldDetailsList, into: Selection) -> None:
        """A subtree read in full with its parent: any loader read below it is a fallback."""
        for name, fields in self._fields(graphql_type, details):
            graphql_field = graphql_type.fields[name]
            if reads_data(graphql_field):
                into.fallbacks.append(f"{graphql_type.name}.{name}")
            else:
                self._below(graphql_field, fields, into)

    def _below(self, graphql_field: GraphQLField, details: FieldDetailsList, into: Selection) -> None:
        named = get_named_type(graphql_field.type)
        if isinstance(named, GraphQLObjectType):
            self._plain(named, details, into)
        elif isinstance(named, GraphQLAbstractType):
            for possible in self._schema.get_possible_types(named):
                self._plain(possible, details, into)

    def _fields(
        self, graphql_type: GraphQLObjectType, details: FieldDetailsList
    ) -> list[tuple[str, FieldDetailsList]]:
        """The selected fields of ``graphql_type`` by name (``__typename`` and unknown names left out)."""
        found = []
        for fields in self._collect(graphql_type, details).values():
            name = fields[0].node.name.value
            if name in graphql_type.fields:
                found.append((name, fields))
        return found

    def _collect(self, graphql_type: GraphQLObjectType, details: FieldDetailsList) -> GroupedFieldSet:
        collected = collect_subfields(
            self._schema, self._fragments, self._variables, self._operation, graphql_type, details
        )
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        return collected.grouped_field_set


def _object(graphql_field: GraphQLField) -> GraphQLObjectType:
    named = get_named_type(graphql_field.type)
    assert isinstance(named, GraphQLObjectType), named
    return named
