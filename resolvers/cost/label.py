"""The label of an operation in metrics and logs: its type and root fields, by schema names only."""

from __future__ import annotations

from graphql import DocumentNode, GraphQLSchema

from resolvers.cost.walk import META_FIELDS, DocumentWalk, TooComplex, operation_of, root_type


def label_of(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> str:
    """A short name for metrics and logs: the operation type and its root fields (schema names only)."""
    operation = operation_of(document, operation_name)
    if operation is None:
        return "invalid"
    root = root_type(schema, operation)
    walk = DocumentWalk(schema, {})
    known = set(root.fields) if root is not None else set()
    try:
        names = sorted(
            {
                node.name.value
                for node, _ in walk.flatten(operation.selection_set, root)
                if node.name.value in known or node.name.value in META_FIELDS
            }
        )
    except TooComplex:
        names = []
    # Labels must stay few: client-chosen names never appear, and larger combinations share one.
    fields = ",".join(names) if 0 < len(names) <= 2 else ("multiple" if names else "__typename")
    return f"{operation.operation.value} {fields}"
