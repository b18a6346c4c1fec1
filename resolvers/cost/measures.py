"""The label, shape and response cost of the documents a schema runs, each worked out once per document."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from graphql import DocumentNode, GraphQLSchema

from resolvers.cost.actual import ResponseCost, response_cost
from resolvers.cost.label import label_of
from resolvers.cost.shape import Pricing, Shape, shape_and_reads, shape_of

# Shapes kept per document for different values of its ``first`` variables: a client varying them widely
# starts the document's shapes afresh past this many.
MAX_SHAPES = 64


@dataclass(slots=True)
class _Measured:
    """What is known of one document and operation: each measure is worked out on first use."""

    label: str | None = None
    cost: ResponseCost | None = None
    costed: bool = False
    reads: tuple[str, ...] | None = None  # the variables its shape depends on, once measured
    shapes: dict[tuple[Any, ...], Shape | None] = field(default_factory=dict)


class Measures:
    """The label, shape and response cost of documents, kept for the most recently used ones.

    Documents are known by their text (the parser cache hands out one document per text) and operation.
    A shape depends on the values of the variables giving a connection's ``first`` too, so it is kept per
    value of those; the label and the response cost on the document alone.
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
        shape, reads = shape_and_reads(schema, document, operation_name, variables, pricing)
        measured.reads = tuple(sorted(reads))
        key = tuple(values.get(name) for name in measured.reads)
        try:
            if len(measured.shapes) >= MAX_SHAPES:
                measured.shapes.clear()
            measured.shapes[key] = shape
        except TypeError:
            pass
        return shape

    def response_cost(
        self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, pricing: Pricing
    ) -> ResponseCost | None:
        measured = self._of(schema, document, operation_name, pricing)
        if measured is None:
            return response_cost(schema, document, operation_name, pricing)
        if not measured.costed:
            measured.cost = response_cost(schema, document, operation_name, pricing)
            measured.costed = True
        return measured.cost


_NO_PRICING = Pricing(max_page_size=0, mutation_cost=0)
