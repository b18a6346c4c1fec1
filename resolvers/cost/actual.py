"""The actual cost of a response: connections count the nodes they hold, introspection every object.

What to count is worked out from the document once (``response_cost``), so a response is then walked by
response key alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLNamedType,
    GraphQLSchema,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
)

from resolvers.cost import walk as w
from resolvers.cost.shape import Pricing


@dataclass(frozen=True, slots=True)
class _ConnectionCost:
    """A connection's edges, each by response key with the costs of the nodes selected on it."""

    edges: tuple[tuple[str, tuple[tuple[str, _SelectionCost], ...]], ...]
    nodes: tuple[tuple[str, _SelectionCost], ...] = ()  # the ``nodes`` shortcut, by response key

    def of(self, value: Any) -> int:
        """The edges (or nodes) it holds plus what their nodes cost."""
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
                        nodes_cost += node.of(edge.get(node_key))
        for nodes_key, node in self.nodes:
            listed = value.get(nodes_key)
            if isinstance(listed, list):
                counted = max(counted, len(listed))
                nodes_cost += sum(node.of(item) for item in listed)
        return counted + nodes_cost


@dataclass(frozen=True, slots=True)
class _SelectionCost:
    """The fields of a selection that cost something, by response key; leaves cost nothing."""

    objects: tuple[tuple[str, _SelectionCost], ...]  # 1 + its selection (the largest item's, for a list)
    connections: tuple[tuple[str, _ConnectionCost], ...]  # 2 + what the connection holds
    entity_lists: tuple[tuple[str, _SelectionCost], ...] = ()  # 2 + one per entity + what each costs
    introspection: tuple[str, ...] = ()  # every object it holds
    flat: tuple[str, ...] = ()  # objects (or lists of them) selecting leaves only: 1 each, not walked

    def of(self, data: Any) -> int:
        # Executors build their data of plain dicts and lists: no abstract Mapping check per object.
        if not isinstance(data, dict):
            return 0
        cost = 0
        for key in self.flat:
            if data.get(key) is not None:
                cost += 1
        for key, inner in self.objects:
            value = data.get(key)
            if value is None:
                continue
            if isinstance(value, list):
                cost += 1 + max((inner.of(item) for item in value), default=0)
            else:
                cost += 1 + inner.of(value)
        for key, connection in self.connections:
            value = data.get(key)
            if value is not None:
                cost += 2 + connection.of(value)
        for key, inner in self.entity_lists:
            value = data.get(key)
            if isinstance(value, list):
                cost += 2 + sum(1 + inner.of(item) for item in value if item is not None)
        for key in self.introspection:
            cost += _objects_in(data.get(key))
        return cost


def _objects_in(value: Any) -> int:
    """The objects a value holds, itself included; every item of a list counts."""
    if isinstance(value, dict):
        return 1 + sum(_objects_in(inner) for inner in value.values())
    if isinstance(value, list):
        return sum(_objects_in(item) for item in value)
    return 0


_LEAVES = _SelectionCost((), ())  # a selection of leaves alone


@dataclass(frozen=True, slots=True)
class ResponseCost:
    """Counts the actual cost of a response to one operation (see ``response_cost``)."""

    selection: _SelectionCost
    fixed: int  # what root mutation and subscription fields cost whatever they return

    def of(self, data: Mapping[str, Any] | None) -> int:
        return 0 if data is None else self.fixed + self.selection.of(data)


def response_cost(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, pricing: Pricing
) -> ResponseCost | None:
    """What counting a response's cost needs from the document, worked out once.

    None when there is no such operation, or when its fragments are too complex to walk.
    """
    operation = w.operation_of(document, operation_name)
    if operation is None:
        return None
    walk = w.DocumentWalk(schema, w.fragments_of(document))
    try:
        selection = _selection_cost(walk, operation.selection_set, w.root_type(schema, operation))
        fixed = 0
        if operation.operation is not OperationType.QUERY:
            fixed = pricing.mutation_cost * walk.root_field_count(operation.selection_set)
    except w.TooComplex:
        return None
    return ResponseCost(selection, fixed)


def _selection_cost(
    walk: w.DocumentWalk, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
) -> _SelectionCost:
    objects: list[tuple[str, _SelectionCost]] = []
    connections: list[tuple[str, _ConnectionCost]] = []
    entity_lists: list[tuple[str, _SelectionCost]] = []
    introspection: list[str] = []
    flat: list[str] = []
    for node, node_parent in walk.flatten(selection_set, parent):
        definition = w.field_definition(node_parent, node.name.value)
        if definition is None or is_leaf_type(get_named_type(definition.type)):
            continue
        key = node.alias.value if node.alias else node.name.value
        named = get_named_type(definition.type)
        if node.name.value in w.META_FIELDS:
            introspection.append(key)
        elif w.is_entity_list(node, node_parent):
            entity_lists.append((key, _selection_cost(walk, node.selection_set, named)))
        elif w.is_connection(definition):
            connections.append((key, _connection_cost(walk, node, named)))
        else:
            inner = _selection_cost(walk, node.selection_set, named)
            if inner == _LEAVES:
                flat.append(key)  # what it holds costs nothing: 1 when present, as ``objects`` counts it
            else:
                objects.append((key, inner))
    return _SelectionCost(
        tuple(objects), tuple(connections), tuple(entity_lists), tuple(introspection), tuple(flat)
    )


def _connection_cost(walk: w.DocumentWalk, node: FieldNode, connection: GraphQLNamedType) -> _ConnectionCost:
    edges: list[tuple[str, tuple[tuple[str, _SelectionCost], ...]]] = []
    listed: list[tuple[str, _SelectionCost]] = []
    for inner, inner_parent in walk.flatten(node.selection_set, connection):
        if inner.name.value == "nodes":
            nodes_type = w.named_type(w.field_definition(inner_parent, "nodes"))
            key = inner.alias.value if inner.alias else "nodes"
            listed.append((key, _selection_cost(walk, inner.selection_set, nodes_type)))
            continue
        if inner.name.value != "edges":
            continue
        edge_type = w.named_type(w.field_definition(inner_parent, "edges"))
        nodes = tuple(
            (
                edge_field.alias.value if edge_field.alias else "node",
                _selection_cost(
                    walk, edge_field.selection_set, w.named_type(w.field_definition(edge_parent, "node"))
                ),
            )
            for edge_field, edge_parent in walk.flatten(inner.selection_set, edge_type)
            if edge_field.name.value == "node"
        )
        edges.append((inner.alias.value if inner.alias else "edges", nodes))
    return _ConnectionCost(tuple(edges), tuple(listed))
