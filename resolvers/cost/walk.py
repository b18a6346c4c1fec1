"""Walking an operation's document against the schema: fields with every fragment opened, each on its type.

The cost measures (``shape``, ``actual``) and the metrics label all read a document this way, before
validation, so the walk tolerates unknown fields and fragments and refuses documents too complex to open.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

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
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    get_named_type,
)

CONNECTION_SUFFIX = "Connection"
ENTITIES = "_entities"
# Fragments can nest so that opening them all grows exponentially; past this many steps a document is
# refused as too complex rather than measured.
MAX_STEPS = 100_000
# Introspection's entry points are on no type's field map; validation checks where they are used.
META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


class TooComplex(Exception):
    """The document takes more steps to walk than any reasonable operation needs."""


@dataclass
class DocumentWalk:
    """One pass over one operation's document; counts its steps and stops past ``MAX_STEPS``."""

    schema: GraphQLSchema
    fragments: Mapping[str, FragmentDefinitionNode]
    active: set[str] = field(default_factory=set)  # fragments being opened, to stop at cycles
    steps: int = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TooComplex

    def condition(
        self, fragment: InlineFragmentNode, parent: GraphQLNamedType | None
    ) -> GraphQLNamedType | None:
        """The type an inline fragment's fields are selected on."""
        type_condition = fragment.type_condition
        return self.schema.get_type(type_condition.name.value) if type_condition else parent

    def flatten(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType | None]]:
        """The fields of a selection with every fragment opened, each with the type it is selected on."""
        for selection in selection_set.selections if selection_set else ():
            self.step()
            if isinstance(selection, FieldNode):
                yield selection, parent
            elif isinstance(selection, InlineFragmentNode):
                yield from self.flatten(selection.selection_set, self.condition(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in self.active:
                    self.active.add(name)
                    try:
                        type_condition = self.schema.get_type(fragment.type_condition.name.value)
                        yield from self.flatten(fragment.selection_set, type_condition)
                    finally:
                        self.active.discard(name)

    def root_field_count(self, selection_set: SelectionSetNode) -> int:
        """How many root fields an operation selects, ``__typename`` aside."""
        return sum(1 for node, _ in self.flatten(selection_set, None) if node.name.value != "__typename")


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    """The document's fragment definitions by name."""
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def named_type(definition: GraphQLField | None) -> GraphQLNamedType | None:
    return get_named_type(definition.type) if definition is not None else None


def field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    """The definition of field ``name`` on ``parent``; None when there is none (validation says so later)."""
    if name in META_FIELDS:
        return META_FIELDS[name]
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def is_entity_list(node: FieldNode, parent: GraphQLNamedType | None) -> bool:
    """Federation's ``Query._entities``: a list as long as its ``representations``, priced like a page."""
    return node.name.value == ENTITIES and parent is not None and parent.name == "Query"


def is_connection(definition: GraphQLField) -> bool:
    """A field taking ``first`` and returning a ``...Connection``: priced by the page it asks for."""
    return "first" in definition.args and get_named_type(definition.type).name.endswith(CONNECTION_SUFFIX)


def operation_of(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    """The operation a request runs: the named one, or the only one."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == operation_name), None)


def root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    if operation.operation is OperationType.MUTATION:
        return schema.mutation_type
    if operation.operation is OperationType.SUBSCRIPTION:
        return schema.subscription_type
    return schema.query_type
