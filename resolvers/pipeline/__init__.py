"""Compiled pipelines: each root field that returns customers is read with one aggregation.

They run within the compiled executor's run of a query (``resolvers/fastpath``): when that run fails, its
stock retry reads through the loaders, so errors, and what is audited alongside them, are the stock ones.

``customer``, ``customers``, ``me`` and ``customerByExternalId`` compile what their selection reads below
the customer (``selection.py``, once per document) into one pipeline (``read.py``): the root match with the
caller's row scope, the record connections with their positions, limits and totals, the timelines, the
metrics and the employees and alerts the records shown refer to. Its answer is primed into the request's
loaders, so the resolvers, the policy guards, the masks and the audit run exactly as they do on loaders;
what the pipeline does not read is loaded by them on demand, field by field. Record pages that select stored
fields only are completed from its documents instead, where that cannot change the answer
(``completion.py``).

``CUSTOMER360_COMPILED_PIPELINES=false`` (or ``CUSTOMER360_COMPILED_EXECUTION=false``) turns this off:
every field reads through the loaders.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
)
from graphql.execution.collect_fields import FieldDetails, FragmentDetails, collect_fields
from graphql.execution.values import VariableValues, get_variable_values

from domain.customers.models import Customer
from domain.paging import BoundedPage, Page
from domain.store import Document
from resolvers.context import Info
from resolvers.fastpath.executor import depends_on_variables
from resolvers.pipeline.read import Read, Wanted
from resolvers.pipeline.selection import Compiler, Selection, Unsupported

# The root fields that read customers through a pipeline.
ROOTS = ("customer", "customers", "me", "customerByExternalId")
CACHED = 512  # selections kept per schema, most recently used first

_PER_REQUEST = object()  # the selection depends on the variables: compiled for every request
_selections: WeakKeyDictionary[GraphQLSchema, OrderedDict[tuple[str, int], Any]] = WeakKeyDictionary()


class PipelineRead:
    """The one pipeline of a root field for one request."""

    def __init__(self, read: Read, info: Info) -> None:
        self._read = read
        self._customers = info.context.repos.customers

    async def one(self, root: list[Document]) -> Customer | None:
        """The customer the root stages find (at most one), with everything selected below it primed."""
        answer = await self._customers.read(self._read.pipeline(root))
        found = self._read.prime(answer)
        return found[0] if found else None

    async def page(self, root: BoundedPage, *, first: int) -> Page[Customer]:
        """A page of ``first`` customers the root stages find (reading one more), everything below primed.

        Read again without the root's bound when it came up short (``BoundedPage``).
        """

        async def run(stages: list[Document]) -> list[Document]:
            return await self._customers.read(self._read.pipeline(stages, first=first))

        answer = await root.read(run, self._read.profiles)
        found = self._read.prime(answer, first=first)
        return Page(found[:first], has_next=len(found) > first)


def pipeline_read(info: Info) -> PipelineRead | None:
    """How this root field is read in one pipeline, or None when its loaders read it."""
    context = info.context
    if not context.pipelines:
        return None
    raw = info._raw_info
    # Strawberry hands resolvers the coerced values alone; graphql-core's helpers take its container.
    given = raw.variable_values
    variables = given if isinstance(given, VariableValues) else VariableValues({}, given)
    selection = _selection(raw.schema, raw.operation, raw.fragments, variables, raw.field_nodes)
    if selection is None:
        return None
    wanted = Wanted.of(selection, variables, context.settings.max_page_size)
    return PipelineRead(Read(context, wanted, execution=given), info)


def _selection(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, Any],
    variables: VariableValues,
    nodes: list[FieldNode],
) -> Selection | None:
    location, node = operation.loc, nodes[0]
    key = (location.source.body, node.loc.start) if location is not None and node.loc is not None else None
    cache = _selections.setdefault(schema, OrderedDict())
    if key is not None and key in cache:
        cache.move_to_end(key)
        found = cache[key]
        if found is not _PER_REQUEST:
            return found  # type: ignore[no-any-return]
    compiled = _compile(schema, operation, fragments, variables, nodes)
    if key is not None and key not in cache:
        per_request = depends_on_variables([operation, *fragments.values()])
        cache[key] = _PER_REQUEST if per_request else compiled
        if len(cache) > CACHED:
            cache.popitem(last=False)
    return compiled


def _compile(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, Any],
    variables: VariableValues,
    nodes: list[FieldNode],
) -> Selection | None:
    compiler = Compiler(schema, {n: FragmentDetails(d) for n, d in fragments.items()}, variables, operation)
    root = _root_type(schema, operation)
    returned = get_named_type(root.fields[nodes[0].name.value].type)
    assert isinstance(returned, GraphQLObjectType)
    details = [FieldDetails(n, None) for n in nodes]
    try:
        if returned.name == "CustomerConnection":
            return compiler.connection_of_customers(returned, details)
        return compiler.customer(returned, details)
    except Unsupported:
        return None


def fallbacks(schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> list[str]:
    """What a query reads outside the pipelines: root fields that have none, and fields below the
    customers that their loaders read on demand. Empty when every read is compiled (for the bench)."""
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    assert isinstance(coerced, VariableValues), coerced
    root = _root_type(schema, operation)
    details = {n: FragmentDetails(d) for n, d in fragments.items()}
    found: list[str] = []
    for fields in collect_fields(schema, details, coerced, root, operation).grouped_field_set.values():
        name = fields[0].node.name.value
        if name == "__typename":
            continue
        if name not in ROOTS:
            found.append(f"{root.name}.{name}")
            continue
        selection = _compile(schema, operation, fragments, coerced, [d.node for d in fields])
        found += selection.fallbacks if selection is not None else [f"{root.name}.{name} (@defer)"]
    return list(dict.fromkeys(found))


def _root_type(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType:
    root = schema.get_root_type(operation.operation)
    assert root is not None
    return root
