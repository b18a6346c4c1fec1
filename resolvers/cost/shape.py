"""How deep, wide and costly an operation is, computed from its document before anything runs.

Cost: a field returning an object is 1 plus its selection; a connection (a field with ``first`` returning a
``...Connection``) is 2 + ``first`` plus ``first`` times the cost of what is selected on its nodes (through
``edges { node }`` or ``nodes``), and so is
federation's ``_entities`` with as many nodes as representations; a root
mutation or subscription field is a fixed cost plus its selection; scalars cost nothing. Fragments are
counted where they are spread, so the cost is an upper bound whatever the runtime types turn out to be.

Introspection (``__schema``, ``__type``) answers from the schema itself, so its cost is known exactly: one
per object it returns, every item of every list counted (the standard introspection query returns about
two thousand). It is counted on the schema, each object once per selection, and counting stops once it
passes the maximum cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
    value_from_ast,
)

from resolvers.cost.walk import (
    META_FIELDS,
    DocumentWalk,
    TooComplex,
    field_definition,
    fragments_of,
    is_connection,
    is_entity_list,
    named_type,
    operation_of,
    root_type,
)


@dataclass(frozen=True, slots=True)
class Shape:
    """The measures of one operation that the limits are checked against."""

    depth: int
    aliases: int
    cost: int
    too_complex: bool = False
    # False when counting stopped past the maximum: the operation costs more than ``cost``.
    exact: bool = True


@dataclass(frozen=True, slots=True)
class Pricing:
    """The numbers the cost formula needs besides the document."""

    max_page_size: int
    mutation_cost: int
    max_cost: int | None = None  # where counting introspection stops; None: never
    introspection: bool = True  # False: introspection is refused anyway, so it is not counted


class _PastMaximum(Exception):
    """Introspection returns more objects than the maximum cost: counting further tells nothing."""


@dataclass(slots=True)
class _Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


@dataclass
class _ShapeWalk(DocumentWalk):
    """Measures one operation; fragments are measured once and reused wherever they are spread."""

    variables: Mapping[str, Any] = field(default_factory=dict)
    pricing: Pricing = field(default_factory=lambda: Pricing(max_page_size=0, mutation_cost=0))
    memo: dict[str, _Measure] = field(default_factory=dict)
    reads: set[str] = field(default_factory=set)  # the variables the measures depend on
    # Introspection: the objects counted, by selection and object; the fields selected, by selection.
    counted: dict[tuple[int, int], int] = field(default_factory=dict)
    selected: dict[int, list[Any]] = field(default_factory=dict)
    introspected: int = 0  # objects counted so far
    past_maximum: bool = False

    def __post_init__(self) -> None:
        # Introspection resolvers read nothing of their info but the schema.
        self._info: Any = SimpleNamespace(schema=self.schema)

    def selection(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> _Measure:
        total = _Measure()
        for selection in selection_set.selections if selection_set else ():
            self.step()
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                part = self.selection(selection.selection_set, self.condition(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                part = self._fragment(selection.name.value)
            else:  # pragma: no cover - the grammar has no other selection
                continue
            # Fragments are not fields: their fields sit at the level where they are spread.
            total.depth = max(total.depth, part.depth)
            total.aliases += part.aliases
            total.cost += part.cost
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Measure:
        definition = field_definition(parent, node.name.value)
        aliases = 1 if node.alias else 0
        if definition is None or is_leaf_type(get_named_type(definition.type)):
            # Unknown fields fail validation later; leaves cost nothing.
            return _Measure(depth=1, aliases=aliases)
        named = get_named_type(definition.type)
        if node.name.value in META_FIELDS:
            inner = self.selection(node.selection_set, named)
            return _Measure(
                depth=1 + inner.depth, aliases=aliases + inner.aliases, cost=self._introspection(node)
            )
        if is_entity_list(node, parent):
            entities = self._representations(node)
            inner = self.selection(node.selection_set, named)
            return _Measure(
                depth=1 + inner.depth,
                aliases=aliases + inner.aliases,
                cost=2 + entities + entities * inner.cost,
            )
        if is_connection(definition):
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
            definition = field_definition(inner_parent, inner.name.value)
            total.aliases += 1 if inner.alias else 0
            if inner.name.value != "edges" or definition is None:
                measure = self.selection(inner.selection_set, named_type(definition))
                total.depth = max(total.depth, 1 + measure.depth)
                total.aliases += measure.aliases
                if inner.name.value == "nodes" and definition is not None:
                    total.cost += measure.cost  # the same nodes as edges { node }, priced alike
                continue
            edge_depth = 0
            for edge_field, edge_parent in self.flatten(inner.selection_set, named_type(definition)):
                total.aliases += 1 if edge_field.alias else 0
                measure = self.selection(
                    edge_field.selection_set, named_type(field_definition(edge_parent, edge_field.name.value))
                )
                edge_depth = max(edge_depth, 1 + measure.depth)
                total.aliases += measure.aliases
                if edge_field.name.value == "node":
                    total.cost += measure.cost
            total.depth = max(total.depth, 1 + edge_depth)
        return total

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

    def _introspection(self, node: FieldNode) -> int:
        """The objects a ``__schema`` or ``__type`` field returns, counted on the schema."""
        if self.past_maximum or not self.pricing.introspection:
            return 0  # over the maximum already, or refused by validation
        definition = META_FIELDS[node.name.value]
        source = definition.resolve(None, self._info, **self._arguments(definition, node))  # type: ignore[misc]
        try:
            return self._count(source, node.selection_set, get_named_type(definition.type))
        except _PastMaximum:
            self.past_maximum = True
            return self.introspected

    def _count(self, source: Any, selection_set: SelectionSetNode | None, object_type: Any) -> int:
        """1 for ``source`` plus what its selection returns; each object is counted once per selection."""
        if source is None:
            return 0
        # Fields, arguments and enum values come as (name, definition) pairs made afresh on each call.
        key = (id(selection_set), id(source[1] if isinstance(source, tuple) else source))
        counted = self.counted.get(key)
        if counted is not None:
            return counted
        self.introspected += 1
        if self.pricing.max_cost is not None and self.introspected > self.pricing.max_cost:
            raise _PastMaximum
        total = 1
        info = self._info
        for inner, resolve, arguments, named, listed in self._objects_selected(selection_set, object_type):
            value = resolve(source, info, **arguments)
            if not listed:
                total += self._count(value, inner, named)
                continue
            for item in value or ():
                total += self._count(item, inner, named)
        self.counted[key] = total
        return total

    def _objects_selected(
        self, selection_set: SelectionSetNode | None, object_type: Any
    ) -> list[tuple[SelectionSetNode | None, Any, dict[str, Any], Any, bool]]:
        """The object-valued fields a selection on an introspection type asks for, worked out once."""
        key = id(selection_set)
        found = self.selected.get(key)
        if found is not None:
            return found
        found = []
        for inner, parent in self.flatten(selection_set, object_type):
            definition = field_definition(parent, inner.name.value)
            if definition is None or definition.resolve is None:
                continue  # unknown fields fail validation
            named = get_named_type(definition.type)
            if is_leaf_type(named):
                continue
            listed = is_list_type(get_nullable_type(definition.type))
            arguments = self._arguments(definition, inner)
            found.append((inner.selection_set, definition.resolve, arguments, named, listed))
        self.selected[key] = found
        return found

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        """An introspection field's arguments (``name``, ``includeDeprecated``) as the request gives them."""
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        values: dict[str, Any] = {}
        for name, argument in definition.args.items():
            literal = given.get(name)
            if isinstance(literal, VariableNode):
                self.reads.add(literal.name.value)
            value = value_from_ast(literal, argument.type, dict(self.variables)) if literal else Undefined
            if value is Undefined:
                value = argument.default_value
            if value is not Undefined:
                values[name] = value
        return values

    def _representations(self, node: FieldNode) -> int:
        """How many entities ``_entities`` is asked for (a page's worth when that is not known yet)."""
        for argument in node.arguments or ():
            if argument.name.value != "representations":
                continue
            value: object = argument.value
            if isinstance(value, ListValueNode):
                return len(value.values)
            if isinstance(value, VariableNode):
                self.reads.add(value.name.value)
                listed = self.variables.get(value.name.value)
                if isinstance(listed, list):
                    return len(listed)
        return self.pricing.max_page_size

    def _first(self, node: FieldNode) -> int:
        """The page size asked for (``first``, or ``last``), within what a page can hold.

        Larger values fail on their own, and so do both given together (priced by the larger).
        """
        sizes: list[int] = []
        for argument in node.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value: object = None
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                self.reads.add(argument.value.name.value)
                value = self.variables.get(argument.value.name.value)
            if isinstance(value, int) and not isinstance(value, bool):
                sizes.append(value)
        if not sizes:
            return self.pricing.max_page_size
        return min(max(max(sizes), 0), self.pricing.max_page_size)


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
    return shape_and_reads(schema, document, operation_name, variables, pricing)[0]


def shape_and_reads(
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
    walk = _ShapeWalk(schema, fragments_of(document), variables=variables or {}, pricing=pricing)
    try:
        measure = walk.selection(operation.selection_set, root_type(schema, operation))
        if operation.operation is not OperationType.QUERY:
            measure.cost += pricing.mutation_cost * walk.root_field_count(operation.selection_set)
    except TooComplex:
        return Shape(depth=0, aliases=0, cost=0, too_complex=True), frozenset(walk.reads)
    shape = Shape(
        depth=measure.depth, aliases=measure.aliases, cost=measure.cost, exact=not walk.past_maximum
    )
    return shape, frozenset(walk.reads)
