"""How deep, wide and costly an operation is, computed from its document before anything runs.

Cost: a field returning an object is 1 plus its selection; a connection (a field with ``first`` returning a
``...Connection``) is 2 + ``first`` plus ``first`` times the cost of what is selected on its nodes; a root
mutation or subscription field is a fixed cost plus its selection; scalars cost nothing. Fragments are
counted where they are spread, so the cost is an upper bound whatever the runtime types turn out to be.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    VariableNode,
    get_named_type,
    is_leaf_type,
)

CONNECTION_SUFFIX = "Connection"
# Fragments can nest so that opening them all grows exponentially; past this many steps a document is
# refused as too complex rather than measured.
MAX_STEPS = 100_000


class TooComplex(Exception):
    """The document takes more steps to measure than any reasonable operation needs."""


@dataclass(frozen=True, slots=True)
class Shape:
    """The measures of one operation that the limits are checked against."""

    depth: int
    aliases: int
    cost: int
    too_complex: bool = False


@dataclass(frozen=True, slots=True)
class Pricing:
    """The numbers the cost formula needs besides the document."""

    max_page_size: int
    mutation_cost: int


@dataclass(slots=True)
class _Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


@dataclass
class _Walk:
    """One pass over one operation; fragments are measured once and reused wherever they are spread."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    pricing: Pricing
    memo: dict[str, _Measure] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)
    steps: int = 0
    reads: set[str] = field(default_factory=set)  # the variables the measures depend on

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TooComplex

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> _Measure:
        total = _Measure()
        for selection in selection_set.selections if selection_set else ():
            self.step()
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                part = self.selection(selection.selection_set, self._condition(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                part = self._fragment(selection.name.value)
            else:  # pragma: no cover - the grammar has no other selection
                continue
            # Fragments are not fields: their fields sit at the level where they are spread.
            total.depth = max(total.depth, part.depth)
            total.aliases += part.aliases
            total.cost += part.cost
        return total

    def _condition(
        self, fragment: InlineFragmentNode, parent: GraphQLNamedType | None
    ) -> GraphQLNamedType | None:
        condition = fragment.type_condition
        return self.schema.get_type(condition.name.value) if condition else parent

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Measure:
        definition = _field_definition(parent, node.name.value)
        aliases = 1 if node.alias else 0
        if definition is None or is_leaf_type(get_named_type(definition.type)):
            # Unknown fields fail validation later; leaves cost nothing.
            return _Measure(depth=1, aliases=aliases)
        named = get_named_type(definition.type)
        if _is_connection(definition):
            nodes = self._connection_nodes(node, named)
            first = self._first(node)
            return _Measure(
                depth=1 + nodes.depth,
                aliases=aliases + nodes.aliases,
                cost=2 + first + first * nodes.cost,
            )
        inner = self.selection(node.selection_set, named)
        return _Measure(depth=1 + inner.depth, aliases=aliases + inner.aliases, cost=1 + inner.cost)

    def _connection_nodes(self, node: FieldNode, connection: GraphQLNamedType) -> _Measure:
        """What is selected on the nodes of a connection, with depth and aliases of the whole inside."""
        total = _Measure()
        for inner, inner_parent in self.flatten(node.selection_set, connection):
            definition = _field_definition(inner_parent, inner.name.value)
            total.aliases += 1 if inner.alias else 0
            if inner.name.value != "edges" or definition is None:
                measure = self.selection(inner.selection_set, _named(definition))
                total.depth = max(total.depth, 1 + measure.depth)
                total.aliases += measure.aliases
                continue
            edge_depth = 0
            for edge_field, edge_parent in self.flatten(inner.selection_set, _named(definition)):
                total.aliases += 1 if edge_field.alias else 0
                measure = self.selection(
                    edge_field.selection_set, _named(_field_definition(edge_parent, edge_field.name.value))
                )
                edge_depth = max(edge_depth, 1 + measure.depth)
                total.aliases += measure.aliases
                if edge_field.name.value == "node":
                    total.cost += measure.cost
            total.depth = max(total.depth, 1 + edge_depth)
        return total

    def flatten(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType | None]]:
        """The fields of a selection with every fragment opened, each with the type it is selected on."""
        for selection in selection_set.selections if selection_set else ():
            self.step()
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                yield from self.flatten(selection.selection_set, self._condition(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in self.active:
                    self.active.add(name)
                    try:
                        condition = self.schema.get_type(fragment.type_condition.name.value)
                        yield from self.flatten(fragment.selection_set, condition)
                    finally:
                        self.active.discard(name)

    def _fragment(self, name: str) -> _Measure:
        if name in self.memo:
            return self.memo[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.active:
            # Unknown or cyclic fragments fail validation later.
            return _Measure()
        self.active.add(name)
        try:
            measure = self.selection(
                fragment.selection_set, self.schema.get_type(fragment.type_condition.name.value)
            )
        finally:
            self.active.discard(name)
        self.memo[name] = measure
        return measure

    def _first(self, node: FieldNode) -> int:
        """The page size asked for, within what a page can hold (larger values fail on their own)."""
        value: object = None
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                self.reads.add(argument.value.name.value)
                value = self.variables.get(argument.value.name.value)
        if not isinstance(value, int) or isinstance(value, bool):
            return self.pricing.max_page_size
        return min(max(value, 0), self.pricing.max_page_size)


_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


def _named(definition: GraphQLField | None) -> GraphQLNamedType | None:
    return get_named_type(definition.type) if definition is not None else None


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name in _META_FIELDS:
        # Introspection's entry points are on no type's field map; validation checks where they are used.
        return _META_FIELDS[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _is_connection(definition: GraphQLField) -> bool:
    return "first" in definition.args and get_named_type(definition.type).name.endswith(CONNECTION_SUFFIX)


def operation_of(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs: the named one, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == operation_name), None)


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    if operation.operation is OperationType.MUTATION:
        return schema.mutation_type
    if operation.operation is OperationType.SUBSCRIPTION:
        return schema.subscription_type
    return schema.query_type


def shape_of(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    pricing: Pricing,
) -> Shape | None:
    """Depth, aliases and cost of the operation the request runs (None when there is no such operation).

    It works on unvalidated documents, so it can run before validation, whose cost it also bounds.
    """
    return _shape_and_reads(schema, document, operation_name, variables, pricing)[0]


def _shape_and_reads(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    pricing: Pricing,
) -> tuple[Shape | None, frozenset[str]]:
    """The shape, and the variables it depends on (those giving a connection's ``first``)."""
    operation = operation_of(document, operation_name)
    if operation is None:
        return None, frozenset()
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, variables or {}, pricing)
    try:
        measure = walk.selection(operation.selection_set, _root_type(schema, operation))
        if operation.operation is not OperationType.QUERY:
            measure.cost += pricing.mutation_cost * _root_field_count(walk, operation.selection_set)
    except TooComplex:
        return Shape(depth=0, aliases=0, cost=0, too_complex=True), frozenset(walk.reads)
    return Shape(depth=measure.depth, aliases=measure.aliases, cost=measure.cost), frozenset(walk.reads)


def _root_field_count(walk: _Walk, selection_set: SelectionSetNode) -> int:
    return sum(1 for node, _ in walk.flatten(selection_set, None) if node.name.value != "__typename")


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    data: Mapping[str, Any] | None,
    pricing: Pricing,
) -> int:
    """The cost of what was actually returned: connections count the nodes they hold, nulls nothing."""
    tally = tally_of(schema, document, operation_name, pricing)
    return tally.cost(data) if tally is not None else 0


def tally_of(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, pricing: Pricing
) -> Tally | None:
    """What ``actual_cost`` needs from the document, worked out once, so the response is walked by key alone.

    None when there is no such operation, or when its fragments are too complex to measure.
    """
    operation = operation_of(document, operation_name)
    if operation is None:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walk = _Walk(schema, fragments, {}, pricing)
    try:
        selection = _selection_tally(walk, operation.selection_set, _root_type(schema, operation))
        fixed = 0
        if operation.operation is not OperationType.QUERY:
            fixed = pricing.mutation_cost * _root_field_count(walk, operation.selection_set)
    except TooComplex:
        return None
    return Tally(selection, fixed)


@dataclass(frozen=True, slots=True)
class _ConnectionTally:
    """A connection's edges, each by response key with the tallies of the nodes selected on it."""

    edges: tuple[tuple[str, tuple[tuple[str, _SelectionTally], ...]], ...]

    def cost(self, value: Any) -> int:
        """The edges it holds plus what their nodes cost."""
        if not isinstance(value, dict):
            return 0
        counted = 0
        nodes_cost = 0
        for edges_key, nodes in self.edges:
            edges = value.get(edges_key)
            if not isinstance(edges, list):
                continue
            counted = max(counted, len(edges))
            for node_key, node in nodes:
                for edge in edges:
                    if isinstance(edge, dict):
                        nodes_cost += node.cost(edge.get(node_key))
        return counted + nodes_cost


@dataclass(frozen=True, slots=True)
class _SelectionTally:
    """The fields of a selection that cost something, by response key; leaves cost nothing."""

    objects: tuple[tuple[str, _SelectionTally], ...]  # 1 + its selection (the largest item's, for a list)
    connections: tuple[tuple[str, _ConnectionTally], ...]  # 2 + what the connection holds

    def cost(self, data: Any) -> int:
        # Executors build their data of plain dicts and lists: no abstract Mapping check per object.
        if not isinstance(data, dict):
            return 0
        cost = 0
        for key, inner in self.objects:
            value = data.get(key)
            if value is None:
                continue
            if isinstance(value, list):
                cost += 1 + max((inner.cost(item) for item in value), default=0)
            else:
                cost += 1 + inner.cost(value)
        for key, connection in self.connections:
            value = data.get(key)
            if value is not None:
                cost += 2 + connection.cost(value)
        return cost


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts the actual cost of a response to one operation (see ``tally_of``)."""

    selection: _SelectionTally
    fixed: int  # what root mutation and subscription fields cost whatever they return

    def cost(self, data: Mapping[str, Any] | None) -> int:
        return 0 if data is None else self.fixed + self.selection.cost(data)


def _selection_tally(
    walk: _Walk, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
) -> _SelectionTally:
    objects: list[tuple[str, _SelectionTally]] = []
    connections: list[tuple[str, _ConnectionTally]] = []
    for node, node_parent in walk.flatten(selection_set, parent):
        definition = _field_definition(node_parent, node.name.value)
        if definition is None or is_leaf_type(get_named_type(definition.type)):
            continue
        key = node.alias.value if node.alias else node.name.value
        named = get_named_type(definition.type)
        if _is_connection(definition):
            connections.append((key, _connection_tally(walk, node, named)))
        else:
            objects.append((key, _selection_tally(walk, node.selection_set, named)))
    return _SelectionTally(tuple(objects), tuple(connections))


def _connection_tally(walk: _Walk, node: FieldNode, connection: GraphQLNamedType) -> _ConnectionTally:
    edges: list[tuple[str, tuple[tuple[str, _SelectionTally], ...]]] = []
    for inner, inner_parent in walk.flatten(node.selection_set, connection):
        if inner.name.value != "edges":
            continue
        edge_type = _named(_field_definition(inner_parent, "edges"))
        nodes = tuple(
            (
                edge_field.alias.value if edge_field.alias else "node",
                _selection_tally(
                    walk, edge_field.selection_set, _named(_field_definition(edge_parent, "node"))
                ),
            )
            for edge_field, edge_parent in walk.flatten(inner.selection_set, edge_type)
            if edge_field.name.value == "node"
        )
        edges.append((inner.alias.value if inner.alias else "edges", nodes))
    return _ConnectionTally(tuple(edges))


def label_of(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> str:
    """A short name for metrics and logs: the operation type and its root fields (schema names only)."""
    operation = operation_of(document, operation_name)
    if operation is None:
        return "invalid"
    root = _root_type(schema, operation)
    walk = _Walk(schema, {}, {}, Pricing(max_page_size=0, mutation_cost=0))
    known = set(root.fields) if root is not None else set()
    try:
        names = sorted(
            {
                node.name.value
                for node, _ in walk.flatten(operation.selection_set, root)
                if node.name.value in known or node.name.value in _META_FIELDS
            }
        )
    except TooComplex:
        names = []
    # Labels must stay few: client-chosen names never appear, and larger combinations share one.
    fields = ",".join(names) if 0 < len(names) <= 2 else ("multiple" if names else "__typename")
    return f"{operation.operation.value} {fields}"


@dataclass(slots=True)
class _Measured:
    """What is known of one document and operation: each measure is worked out on first use."""

    label: str | None = None
    tally: Tally | None = None
    tallied: bool = False
    reads: tuple[str, ...] | None = None  # the variables its shape depends on, once measured
    shapes: dict[tuple[Any, ...], Shape | None] = field(default_factory=dict)


# Shapes kept per document for different values of its ``first`` variables: a client varying them widely
# starts the document's shapes afresh past this many.
MAX_SHAPES = 64


class Measures:
    """The label, shape and tally of the documents a schema runs, each worked out once per document.

    Documents are known by their text (the parser cache hands out one document per text) and operation;
    the most recently used are kept. A shape depends on the values of the variables giving a connection's
    ``first`` too, so it is kept per value of those; the label and the tally on the document alone.
    """

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._schemas: WeakKeyDictionary[GraphQLSchema, OrderedDict[tuple[Any, ...], _Measured]] = (
            WeakKeyDictionary()
        )

    def _of(
        self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, pricing: Pricing
    ) -> _Measured | None:
        if document.loc is None:
            return None
        documents = self._schemas.get(schema)
        if documents is None:
            documents = self._schemas[schema] = OrderedDict()
        key = (document.loc.source.body, operation_name, pricing)
        measured = documents.get(key)
        if measured is None:
            measured = documents[key] = _Measured()
            if len(documents) > self._size:
                documents.popitem(last=False)
        else:
            documents.move_to_end(key)
        return measured

    def label(self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> str:
        measured = self._of(schema, document, operation_name, _NO_PRICING)
        if measured is None:
            return label_of(schema, document, operation_name)
        if measured.label is None:
            measured.label = label_of(schema, document, operation_name)
        return measured.label

    def shape(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        pricing: Pricing,
    ) -> Shape | None:
        measured = self._of(schema, document, operation_name, pricing)
        if measured is None:
            return shape_of(schema, document, operation_name, variables, pricing)
        values = variables or {}
        if measured.reads is not None:
            key = tuple(values.get(name) for name in measured.reads)
            try:
                return measured.shapes[key]
            except KeyError:
                pass
            except TypeError:  # an unhashable value: measured afresh, not kept
                return shape_of(schema, document, operation_name, variables, pricing)
        shape, reads = _shape_and_reads(schema, document, operation_name, variables, pricing)
        measured.reads = tuple(sorted(reads))
        key = tuple(values.get(name) for name in measured.reads)
        try:
            if len(measured.shapes) >= MAX_SHAPES:
                measured.shapes.clear()
            measured.shapes[key] = shape
        except TypeError:
            pass
        return shape

    def tally(
        self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, pricing: Pricing
    ) -> Tally | None:
        measured = self._of(schema, document, operation_name, pricing)
        if measured is None:
            return tally_of(schema, document, operation_name, pricing)
        if not measured.tallied:
            measured.tally = tally_of(schema, document, operation_name, pricing)
            measured.tallied = True
        return measured.tally


_NO_PRICING = Pricing(max_page_size=0, mutation_cost=0)
