"""Record pages completed straight from the pipeline's documents, for selections of stored fields only.

A customer's record connection whose selection reads only its edges, cursors, nodes, page info and fields
of the records that have readers here is completed from the documents the pipeline read: no domain record,
no view, no pass of the executor's completers over them, which is most of what a large response costs.
The connection's resolver answers with the result (``CompletedPages``) and the compiled executor takes it
as it is (``Completed``).

It is used only where the answer cannot differ from the executor's:
- the caller's role reads every field of the selection in full and none is personal data: nothing is
  masked, hidden, denied or audited there (otherwise the executor completes the page);
- each field gives the value its view would hold, serialized by the field's own scalar, and a value the
  executor would refuse (null in a non-null field, one its scalar does not serialize) leaves the page to
  the executor, which reports it as it does;
- the response keys come in the order graphql-core collects them, aliases and ``__typename`` included.

Only the fields shown are read from a document: one the repositories could not have written (a field
missing that the page does not show) is shown, where building its domain record would have failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.type.scalars import GRAPHQL_MAX_INT, GRAPHQL_MIN_INT
from strawberry.types.field import StrawberryField

from auth.policy import Access, field_rule
from auth.principal import Role
from domain.store import Document
from resolvers.crm.types import LINE_ITEM_READERS, TRANSACTION_READERS
from resolvers.fastpath.execution import Completed
from resolvers.fastpath.plan import DEFINITION
from resolvers.guards import PolicyGuard
from resolvers.money import MONEY_READERS

Reader = Callable[[Any], Any]

# The record types completed from documents, and the value types below them, by GraphQL type name.
READERS: dict[str, dict[str, Reader]] = {
    "Transaction": TRANSACTION_READERS,
    "LineItem": LINE_ITEM_READERS,
    "Money": MONEY_READERS,
}
# A page's info, read from the page (``_Page``) as ``PageInfo.of`` gives it for a page read forward.
PAGE_INFO_READERS: dict[str, Reader] = {
    "hasNextPage": lambda page: page.has_next,
    "hasPreviousPage": lambda page: False,
    "startCursor": lambda page: page.cursors[0] if page.cursors else None,
    "endCursor": lambda page: page.cursors[-1] if page.cursors else None,
}

# The leaf types whose serializers give back a value of this type unchanged (an Int within its range).
UNCHANGED: dict[Any, type] = {GraphQLString: str, GraphQLID: str, GraphQLInt: int}

Collect = Callable[[GraphQLObjectType, FieldDetailsList], GroupedFieldSet]


class Unsupported(Exception):
    """The selection reads something that is not completed from documents: the executor completes it."""


class _GiveUp(Exception):
    """A value the executor would refuse (null in a non-null field, a scalar serialized to nothing)."""


class _Page:
    """What a page's connection is completed from: its records' documents and cursors, whether more follow."""

    __slots__ = ("cursors", "documents", "has_next")

    def __init__(self, documents: Sequence[Document], cursors: list[str], *, has_next: bool) -> None:
        self.documents = documents
        self.cursors = cursors
        self.has_next = has_next


class _Value:
    """How a value read for a field is completed: by ``complete`` (objects and lists, never given None),
    or for a leaf by ``serialize``; ``same`` is the type a leaf's serializer gives back unchanged."""

    __slots__ = ("complete", "non_null", "same", "serialize")

    def __init__(
        self,
        *,
        non_null: bool,
        complete: Callable[[Any], Any] | None = None,
        serialize: Callable[[Any], Any] | None = None,
        same: type | None = None,
    ) -> None:
        self.complete = complete
        self.serialize = serialize
        self.non_null = non_null
        self.same = same


class ConnectionCompletion:
    """How one selection of a customer's record connection is completed from the page's documents."""

    def __init__(
        self,
        node: FieldNode,
        cursor: Callable[[Document], str],
        complete: Callable[[Any], Any],
        reads: set[tuple[str, str]],
    ) -> None:
        self.node = node  # the connection's field node: its resolver finds the completed page by it
        self._cursor = cursor  # a record's cursor, from its document
        self._complete = complete
        self._guarded = tuple(sorted(reads))
        self._allowed: dict[Role, bool] = {}

    def allowed(self, role: Role) -> bool:
        """Whether ``role`` reads every guarded field of the selection in full, none of it personal."""
        found = self._allowed.get(role)
        if found is None:
            found = self._allowed[role] = all(_in_full(role, *field) for field in self._guarded)
        return found

    def complete(self, documents: Sequence[Document], *, has_next: bool) -> Completed | None:
        """The completed connection of a page of these documents, newest first; None when the executor
        must complete it (a value it would refuse)."""
        try:
            cursors = [self._cursor(document) for document in documents]
            return Completed(self._complete(_Page(documents, cursors, has_next=has_next)))
        except Exception:
            # A value the executor refuses (``_GiveUp``, a scalar that raised) or a document its records'
            # mapping refuses: the executor's path meets the same and reports it as it does.
            return None


def connection_completion(
    collect: Collect,
    parent: GraphQLObjectType,
    field: GraphQLField,
    details: FieldDetailsList,
    cursor: Callable[[Document], str],
) -> ConnectionCompletion | None:
    """The completion of a record connection selected by ``details``, whose records' documents give their
    cursors by ``cursor``; None when it reads something else."""
    connection = _object_type(field.type)
    edge = connection.fields.get("edges")
    if edge is None or "node" not in _object_type(edge.type).fields:
        return None
    record = _object_type(_object_type(edge.type).fields["node"].type)
    compiler = _Compiler(collect, record)
    try:
        compiler.guarded(parent, details[0].node.name.value, field)
        complete = compiler.connection(connection, details)
    except Unsupported:
        return None
    return ConnectionCompletion(details[0].node, cursor, complete, compiler.reads)


class _Compiler:
    def __init__(self, collect: Collect, record: GraphQLObjectType) -> None:
        self._collect = collect
        self._record_type = record  # the connection's nodes
        self.reads: set[tuple[str, str]] = set()  # the guarded fields read, as (type, field)

    def guarded(self, parent: GraphQLObjectType, name: str, field: GraphQLField) -> None:
        """Notes a field's guard; a field with any other extension is not completed here."""
        definition = field.extensions.get(DEFINITION)
        if not isinstance(definition, StrawberryField):
            raise Unsupported(f"{parent.name}.{name}")
        extensions = definition.extensions
        if any(type(extension) is not PolicyGuard for extension in extensions):
            raise Unsupported(f"{parent.name}.{name} has extensions")
        if extensions:
            self.reads.add((parent.name, name))

    def connection(self, connection: GraphQLObjectType, details: FieldDetailsList) -> Callable[[_Page], Any]:
        steps: list[tuple[str, Callable[[_Page], Any]]] = []
        for key, name, field, fields in self._fields(connection, details):
            if name == "__typename":
                steps.append((key, _constant(connection.name)))
            elif name == "edges":
                steps.append((key, self._edges(_object_type(field.type), fields)))
            elif name == "nodes":
                steps.append((key, _nodes(self._record(_object_type(field.type), fields))))
            elif name == "pageInfo":
                info = self._object(_object_type(field.type), fields, PAGE_INFO_READERS)
                steps.append((key, info))
            else:
                raise Unsupported(f"{connection.name}.{name}")

        def complete(page: _Page) -> dict[str, Any]:
            return {key: step(page) for key, step in steps}

        return complete

    def _edges(self, edge: GraphQLObjectType, details: FieldDetailsList) -> Callable[[_Page], Any]:
        steps: list[tuple[str, int]] = []  # response key and what it reads: 0 type name, 1 cursor, 2 node
        record: Callable[[Document], Any] | None = None
        for key, name, field, fields in self._fields(edge, details):
            if name == "__typename":
                steps.append((key, 0))
            elif name == "cursor":
                steps.append((key, 1))
            elif name == "node":
                record = self._record(_object_type(field.type), fields)
                steps.append((key, 2))
            else:
                raise Unsupported(f"{edge.name}.{name}")
        type_name = edge.name

        def complete(page: _Page) -> list[dict[str, Any]]:
            edges = []
            for document, cursor in zip(page.documents, page.cursors, strict=True):
                edge: dict[str, Any] = {}
                for key, what in steps:
                    if what == 2:
                        assert record is not None
                        edge[key] = record(document)
                    else:
                        edge[key] = cursor if what == 1 else type_name
                edges.append(edge)
            return edges

        return complete

    def _record(self, record: GraphQLObjectType, details: FieldDetailsList) -> Callable[[Document], Any]:
        if record is not self._record_type:
            raise Unsupported(f"{record.name} in a connection of {self._record_type.name}")
        readers = READERS.get(record.name)
        if readers is None:
            raise Unsupported(record.name)
        return self._object(record, details, readers)

    def _object(
        self, object_type: GraphQLObjectType, details: FieldDetailsList, readers: dict[str, Reader]
    ) -> Callable[[Any], dict[str, Any]]:
        """The completer of an object read by ``readers``: each selected field must have one."""
        fields: list[tuple[str, str | tuple[Reader, _Value]]] = []  # by response key: a type name, or read
        for key, name, field, details_of in self._fields(object_type, details):
            if name == "__typename":
                fields.append((key, object_type.name))
                continue
            reader = readers.get(name)
            if reader is None or field.args:
                raise Unsupported(f"{object_type.name}.{name}")
            fields.append((key, (reader, self._value(field.type, details_of))))
        return _object(fields)

    def _value(self, graphql_type: GraphQLOutputType, details: FieldDetailsList) -> _Value:
        non_null = is_non_null_type(graphql_type)
        inner: Any = graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
        if is_leaf_type(inner):
            return _Value(non_null=non_null, serialize=_serializer(inner), same=UNCHANGED.get(inner))
        if is_list_type(inner):
            assert isinstance(inner, GraphQLList)
            return _Value(non_null=non_null, complete=_list(self._value(inner.of_type, details)))
        if is_object_type(inner):
            readers = READERS.get(inner.name)
            if readers is None:
                raise Unsupported(inner.name)
            return _Value(non_null=non_null, complete=self._object(inner, details, readers))
        raise Unsupported(str(inner))  # an interface or union

    def _fields(
        self, object_type: GraphQLObjectType, details: FieldDetailsList
    ) -> list[tuple[str, str, GraphQLField, FieldDetailsList]]:
        """The selected fields as graphql-core collects them: (response key, name, field, details)."""
        found = []
        for key, fields in self._collect(object_type, details).items():
            if any(d.defer_usage is not None or d.fragment_variable_values is not None for d in fields):
                raise Unsupported("@defer and fragment arguments")
            name = fields[0].node.name.value
            if name == "__typename":
                found.append((key, name, GraphQLField(GraphQLString), fields))
                continue
            field = object_type.fields.get(name)
            if field is None:
                if name.startswith("__"):
                    raise Unsupported("introspection")
                continue  # graphql-core leaves unknown fields out too
            self.guarded(object_type, name, field)
            found.append((key, name, field, fields))
        return found


def _object(fields: list[tuple[str, str | tuple[Reader, _Value]]]) -> Callable[[Any], dict[str, Any]]:
    """The completer of one object, written out as a function of its own.

    A large page is thousands of small objects of a few fields each: a loop over each object's fields costs
    more than the fields' own reading. So the function's text is generated: one block per field, then the
    dict in response key order. Only indices are written into the text; keys, readers and serializers are
    names bound in its namespace, so nothing from the query is ever compiled as code.
    """
    namespace: dict[str, Any] = {"GiveUp": _GiveUp, "Undefined": Undefined}
    namespace.update(MIN_INT=GRAPHQL_MIN_INT, MAX_INT=GRAPHQL_MAX_INT)
    lines = ["def complete(source):"]
    for i, (key, how) in enumerate(fields):
        namespace[f"key{i}"] = key
        if isinstance(how, str):
            namespace[f"v{i}"] = how  # a type name: a constant of the namespace
            continue
        reader, value = how
        namespace[f"read{i}"] = reader
        lines += [f"    v{i} = read{i}(source)", f"    if v{i} is None:"]
        lines.append("        raise GiveUp" if value.non_null else "        pass")
        if value.complete is not None:
            namespace[f"complete{i}"] = value.complete
            lines += ["    else:", f"        v{i} = complete{i}(v{i})"]
            continue
        namespace[f"serialize{i}"] = value.serialize
        if value.same is str:
            lines.append(f"    elif type(v{i}) is not str:")
        elif value.same is int:
            lines.append(f"    elif type(v{i}) is not int or not MIN_INT <= v{i} <= MAX_INT:")
        else:
            lines.append("    else:")
        lines += [
            f"        v{i} = serialize{i}(v{i})",
            f"        if v{i} is None or v{i} is Undefined:",
            "            raise GiveUp",
        ]
    lines.append("    return {" + ", ".join(f"key{i}: v{i}" for i in range(len(fields))) + "}")
    exec(compile("\n".join(lines), "<completion>", "exec"), namespace)  # noqa: S102 (indices only)
    complete: Callable[[Any], dict[str, Any]] = namespace["complete"]
    return complete


def _list(item: _Value) -> Callable[[Any], list[Any]]:
    complete_item, serialize, non_null = item.complete, item.serialize, item.non_null

    def complete(value: Any) -> list[Any]:
        if type(value) not in (list, tuple):
            raise _GiveUp
        completed: list[Any] = []
        for one in value:
            if one is None:
                if non_null:
                    raise _GiveUp
                completed.append(None)
            elif complete_item is not None:
                completed.append(complete_item(one))
            else:
                completed.append(_serialized(serialize, one))
        return completed

    return complete


def _serialized(serialize: Callable[[Any], Any] | None, value: Any) -> Any:
    assert serialize is not None
    serialized = serialize(value)
    if serialized is None or serialized is Undefined:
        raise _GiveUp
    return serialized


def _serializer(leaf: Any) -> Callable[[Any], Any]:
    """A leaf type's ``serialize``; for an enum, its answers for the enum's members looked up first."""
    serialize: Callable[[Any], Any] = leaf.serialize
    members = getattr(leaf, "wrapped_cls", None)  # strawberry's enums: the Python enum they show
    if not isinstance(leaf, GraphQLEnumType) or members is None:
        return serialize
    names = {member: serialize(member) for member in members}

    def serialize_member(value: Any) -> Any:
        return names[value] if type(value) is members else serialize(value)

    return serialize_member


def _nodes(record: Callable[[Document], Any]) -> Callable[[_Page], list[Any]]:
    return lambda page: [record(document) for document in page.documents]


def _constant(value: str) -> Callable[[Any], str]:
    return lambda _: value


def _object_type(graphql_type: GraphQLOutputType) -> GraphQLObjectType:
    """The object type of a field's value, through non-null and list wrappers."""
    named: Any = graphql_type
    while isinstance(named, GraphQLNonNull | GraphQLList):
        named = named.of_type
    if not isinstance(named, GraphQLObjectType):
        raise Unsupported(str(named))
    return named


def _in_full(role: Role, type_name: str, field_name: str) -> bool:
    rule = field_rule(type_name, field_name)
    return rule is not None and rule.for_role(role) is Access.FULL and not rule.personal
