"""Compiling a query's selections into completers: closures that turn resolved values into response data.

A completer takes ``(value, path, run)`` and returns the completed value or an awaitable of it. It mirrors
graphql-core's ``complete_value`` (non-null, list, leaf, abstract, object) and its concurrency (awaitable
fields and list items are gathered per object and per list), so loaders batch the same way. Instead of
raising, it marks the ``Run`` failed and yields None; the executor then answers with the stock executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Generator
from types import CoroutineType
from typing import Any, cast

from graphql import (
    GraphQLAbstractType,
    GraphQLArgument,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    Undefined,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, is_iterable
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from resolvers.fastpath.execution import Completed, Run
from resolvers.guards import ROOTS, PolicyGuard, field_access, shown

Completer = Callable[[Any, Path | None, Run], Any]
Step = Callable[[Any, Path | None, Run], Any]
DEFINITION = "strawberry-definition"  # where strawberry keeps a field's definition on the GraphQL field


class Unsupported(Exception):
    """The document uses something the compiler does not handle; the stock executor runs it."""


class Compiled:
    """A completer with what its callers need to know about it."""

    __slots__ = ("complete", "may_await", "needs_path")

    def __init__(self, complete: Completer, *, may_await: bool, needs_path: bool) -> None:
        self.complete = complete
        self.may_await = may_await  # it can return an awaitable
        self.needs_path = needs_path  # a resolver below it receives a path


# A plain attribute of a leaf type, completed by its object: (attribute, serialize, non-null, a String).
Leaf = tuple[str, Callable[[Any], Any], bool, bool]
# One selected field of an object: (response key, step, whether it may await, the plain leaf it reads).
ObjectStep = tuple[str, Step, bool, Leaf | None]

Collect = Callable[[GraphQLObjectType, FieldDetailsList], GroupedFieldSet]


class Strawberry:
    """What the plan needs of the strawberry schema to call resolvers itself: its ``Info`` and arguments."""

    __slots__ = ("config", "info_class", "scalar_registry")

    def __init__(self, schema: Any) -> None:
        self.config = schema.config
        self.info_class = schema.config.info_class
        self.scalar_registry = schema.schema_converter.scalar_registry


class Compiler:
    """Compiles one operation's selections; ``collect`` groups a type's subfields as graphql-core does."""

    def __init__(
        self,
        collect: Collect,
        possible_types: Callable[[GraphQLAbstractType], Any],
        strawberry: Strawberry | None = None,
    ) -> None:
        self._collect = collect
        self._possible_types = possible_types
        self._strawberry = strawberry

    def object(
        self, object_type: GraphQLObjectType, fields: GroupedFieldSet, *, root: bool = False
    ) -> Compiled:
        """The completer of an object of ``object_type`` with these grouped fields.

        The root object is the operation's root value, which may be None and is never type-checked.
        """
        steps: list[ObjectStep] = []
        needs_path = False
        for key, details in fields.items():
            if any(d.defer_usage is not None or d.fragment_variable_values is not None for d in details):
                raise Unsupported("@defer and fragment arguments")
            field_name = details[0].node.name.value
            if field_name == "__typename":
                steps.append((key, _constant(object_type.name), False, None))
                continue
            field = object_type.fields.get(field_name)
            if field is None:
                if field_name.startswith("__"):
                    raise Unsupported("introspection")
                continue  # graphql-core leaves unknown fields out too
            leaf = _plain_leaf(field)
            if leaf is not None:
                steps.append((key, _constant(""), False, leaf))
                continue
            step, may_await, path = self._field(object_type, key, field, details)
            steps.append((key, step, may_await, None))
            needs_path = needs_path or path
        return Compiled(
            _object(steps, object_type.is_type_of, root=root),
            may_await=any(m for _, _, m, _ in steps),
            needs_path=needs_path,
        )

    def _field(
        self, parent: GraphQLObjectType, key: str, field: GraphQLField, details: FieldDetailsList
    ) -> tuple[Step, bool, bool]:
        if _plain_attribute(field):
            # Strawberry's own resolver would just getattr it: no resolver, no extension (so no guard).
            compiled = self.value(field.type, details, (parent, field, key))
            attribute, complete = field.extensions[DEFINITION].python_name, compiled.complete
            if compiled.needs_path:

                def read_with_path(source: Any, path: Path | None, run: Run) -> Any:
                    return complete(getattr(source, attribute), Path(path, key, parent.name), run)

                return read_with_path, compiled.may_await, True

            def read(source: Any, path: Path | None, run: Run) -> Any:
                return complete(getattr(source, attribute), None, run)

            return read, compiled.may_await, False
        compiled = self.value(field.type, details, (parent, field, key))
        guarded_read = _guarded_read(parent, field)
        if guarded_read is not None:
            step = _guarded(parent, key, details[0].node.name.value, guarded_read, compiled)
            return step, compiled.may_await, compiled.needs_path
        if self._strawberry is not None and _directly_callable(parent, field):
            return _called(parent, key, field, details, compiled.complete, self._strawberry), True, True
        return _resolved(parent, key, field, details, compiled.complete), True, True

    def value(
        self,
        graphql_type: GraphQLOutputType,
        details: FieldDetailsList,
        owner: tuple[GraphQLObjectType, GraphQLField, str],
    ) -> Compiled:
        """The completer of a value of ``graphql_type`` selected by ``details``."""
        if is_non_null_type(graphql_type):
            assert isinstance(graphql_type, GraphQLNonNull)
            inner = self.value(graphql_type.of_type, details, owner)
            return Compiled(_non_null(inner.complete), may_await=inner.may_await, needs_path=inner.needs_path)
        if is_list_type(graphql_type):
            assert isinstance(graphql_type, GraphQLList)
            item = self.value(graphql_type.of_type, details, owner)
            return Compiled(_list(item), may_await=item.may_await, needs_path=item.needs_path)
        if is_leaf_type(graphql_type):
            serialize = graphql_type.serialize
            strings = graphql_type is GraphQLString
            return Compiled(_leaf(serialize, strings=strings), may_await=False, needs_path=False)
        if is_abstract_type(graphql_type):
            assert isinstance(graphql_type, GraphQLAbstractType)
            return self._abstract(graphql_type, details, owner)
        assert is_object_type(graphql_type)
        assert isinstance(graphql_type, GraphQLObjectType)
        return self.object(graphql_type, self._collect(graphql_type, details))

    def _abstract(
        self,
        abstract: GraphQLAbstractType,
        details: FieldDetailsList,
        owner: tuple[GraphQLObjectType, GraphQLField, str],
    ) -> Compiled:
        parent, field, _ = owner
        schema_types: list[GraphQLObjectType] = list(self._possible_types(abstract))
        plans = {t.name: self.object(t, self._collect(t, details)) for t in schema_types}
        completers = {name: plan.complete for name, plan in plans.items()}
        nodes = [d.node for d in details]

        def complete(value: Any, path: Path | None, run: Run) -> Any:
            if value is None:
                return None
            try:
                info = run.executor.build_resolve_info(field, nodes, parent, path)  # type: ignore[arg-type]
                resolve_type = abstract.resolve_type or run.executor.type_resolver
                name = resolve_type(value, info, abstract)
                if run.is_awaitable(name):
                    return run.fail()
                runtime = run.executor.ensure_valid_runtime_type(name, abstract, details, info, value)
            except Exception:
                return run.fail()
            return completers[runtime.name](value, path, run)

        return Compiled(complete, may_await=any(p.may_await for p in plans.values()), needs_path=True)


def _plain_attribute(field: GraphQLField) -> bool:
    """Whether strawberry resolves ``field`` by reading an attribute, with no resolver or extension.

    Strawberry marks guarded fields without a resolver as "default" too, so the check is on its basic-field
    resolver and on the field definition; anything else goes through ``field.resolve`` (failing safe).
    """
    definition = field.extensions.get(DEFINITION)
    return (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and not definition.extensions
        and definition.default_resolver is getattr
        and getattr(field.resolve, "__name__", "") == "_get_basic_result"
    )


def _plain_leaf(field: GraphQLField) -> Leaf | None:
    """How the object's completer reads and serializes a plain attribute of a leaf type itself.

    That is what ``read``, ``_non_null`` and ``_leaf`` do for it, in one place: the large responses are
    mostly such fields, and three calls each cost more than the read.
    """
    if not _plain_attribute(field):
        return None
    non_null = is_non_null_type(field.type)
    leaf_type: Any = get_nullable_type(field.type)
    if not is_leaf_type(leaf_type):
        return None
    attribute = field.extensions[DEFINITION].python_name
    return attribute, leaf_type.serialize, non_null, leaf_type is GraphQLString


def _guarded_read(parent: GraphQLObjectType, field: GraphQLField) -> Callable[[Any], Any] | None:
    """How to read a field whose only extension is its ``PolicyGuard``, when that is all it needs.

    That is a synchronous field without arguments that reads an attribute (the guarded basic fields) or
    calls a resolver taking only ``self`` (``Node.id``). Anything else goes through ``field.resolve``.
    """
    definition = field.extensions.get(DEFINITION)
    if (
        not isinstance(definition, StrawberryField)
        or parent.name in ROOTS
        or field.args
        or definition.is_async
        or len(definition.extensions) != 1
        or type(definition.extensions[0]) is not PolicyGuard
        or getattr(field.resolve, "__name__", "") != "_resolver"
    ):
        return None
    resolver = definition.base_resolver
    if resolver is None:
        if definition.default_resolver is not getattr:
            return None
        attribute = definition.python_name
        return lambda source: getattr(source, attribute)
    only_self = (
        resolver.self_parameter is not None
        and not resolver.arguments
        and resolver.info_parameter is None
        and resolver.root_parameter is None
        and resolver.parent_parameter is None
        and not resolver.is_async
    )
    return cast("Callable[[Any], Any]", resolver.wrapped_func) if only_self else None


def _directly_callable(parent: GraphQLObjectType, field: GraphQLField) -> bool:
    """Whether the plan can call the field's resolver itself, as strawberry's resolver wrapper would.

    That is a resolver of a non-root field whose only extension, if any, is its ``PolicyGuard``, still wrapped
    by strawberry as built, and whose arguments are all scalars or enums (their conversion needs no ``info``
    and gives the same values for every call of one request), or lists of them. Anything else goes through
    ``field.resolve``.
    """
    definition = field.extensions.get(DEFINITION)
    return (
        isinstance(definition, StrawberryField)
        and definition.base_resolver is not None
        and callable(definition.base_resolver.wrapped_func)
        and parent.name not in ROOTS
        and len(definition.extensions) <= 1
        and all(type(extension) is PolicyGuard for extension in definition.extensions)
        and getattr(field.resolve, "__name__", "")
        == ("_async_resolver" if definition.is_async else "_resolver")
        and all(_scalar_argument(argument) for argument in field.args.values())
    )


def _scalar_argument(argument: GraphQLArgument) -> bool:
    """A scalar or enum argument, or a list of them."""
    nullable: Any = get_nullable_type(argument.type)
    if is_list_type(nullable):
        nullable = get_nullable_type(nullable.of_type)
    return is_leaf_type(nullable)


def _called(
    parent: GraphQLObjectType,
    key: str,
    field: GraphQLField,
    details: FieldDetailsList,
    complete: Completer,
    strawberry: Strawberry,
) -> Step:
    """A resolver called by the plan as strawberry calls it, its guard applied here (``PolicyGuard``'s steps).

    The arguments are coerced and converted once per request and field node; the resolver is called with
    ``self``, ``root``/``parent`` and ``info`` as it asks for them, an ``info`` built only then.
    """
    definition: StrawberryField = field.extensions[DEFINITION]
    resolver = definition.base_resolver
    assert resolver is not None
    function = cast("Callable[..., Any]", resolver.wrapped_func)
    nodes = [d.node for d in details]
    node = details[0].node
    type_name, field_name = parent.name, node.name.value
    guarded = bool(definition.extensions)
    with_self = resolver.self_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    source_names = tuple(
        p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
    )
    has_arguments = bool(field.args or node.arguments)
    # Each call gets its own copy of a list argument, as strawberry's conversion gives it.
    has_lists = any(is_list_type(get_nullable_type(a.type)) for a in field.args.values())
    info_class, slot = strawberry.info_class, object()

    def convert(run: Run) -> dict[str, Any]:
        coerced = get_argument_values(field, node, run.executor.variable_values)
        converted = convert_arguments(
            coerced, definition.arguments, strawberry.scalar_registry, strawberry.config, None
        )
        for extension in definition.extensions:
            converted = extension.map_arguments(converted)
        return converted

    def step(source: Any, path: Path | None, run: Run) -> Any:
        field_path = Path(path, key, type_name)
        executor = run.executor
        try:
            if guarded:
                context = executor.context_value
                role = context.principal.role
                rule = field_access(type_name, field_name, role)
            kwargs = dict(run.converted(slot, convert)) if has_arguments else {}
            if has_lists:
                kwargs = {name: list(v) if type(v) is list else v for name, v in kwargs.items()}
            if info_name is not None:
                raw = executor.build_resolve_info(field, nodes, parent, field_path)
                kwargs[info_name] = info_class(_raw_info=raw, _field=definition)
            for name in source_names:
                kwargs[name] = source
            resolved = function(source, **kwargs) if with_self else function(**kwargs)
            if type(resolved) is CoroutineType:
                # Run it as far as it goes now: what the request's loaders already hold needs no task.
                resolved = _eager(resolved)
            if guarded and not run.is_awaitable(resolved):
                resolved = shown(resolved, source, field_name, context, role, rule)
        except Exception:
            return run.fail()
        if run.is_awaitable(resolved):
            if guarded:
                return _shown_later(
                    resolved, source, field_name, context, role, rule, complete, field_path, run
                )
            return _completed_later(resolved, complete, field_path, run)
        return complete(resolved, field_path, run)

    return step


class _Handed:
    """Hands what a coroutine yielded to the task awaiting it, and the task's answer back to it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, Any, Any]:
        value = self.value
        if getattr(value, "_asyncio_future_blocking", None) is not None:
            value._asyncio_future_blocking = True  # the task is to wait for this future (see ``_eager``)
        return (yield value)


def _eager(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """A coroutine run until it first waits: its result if it finished, else an awaitable of the rest.

    What it yielded (the future it waits for) is handed on to the task that awaits the rest, which resumes
    it as if it had been awaited from the start. Exceptions raised before it waited are raised here.
    """
    try:
        yielded = coroutine.send(None)
    except StopIteration as finished:
        return finished.value
    if getattr(yielded, "_asyncio_future_blocking", None):
        # A future marks itself as awaited when it yields; another coroutine awaiting it before a task
        # has seen that mark would take it for a resumption. The mark is set again when handed on.
        yielded._asyncio_future_blocking = False
    return _rest(coroutine, yielded)


async def _rest(coroutine: Coroutine[Any, Any, Any], yielded: Any) -> Any:
    while True:
        try:
            answer = await _Handed(yielded)
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as error:  # a cancellation or error for the coroutine: it decides
            try:
                yielded = coroutine.throw(error)
            except StopIteration as finished:
                return finished.value
        else:
            try:
                yielded = coroutine.send(answer)
            except StopIteration as finished:
                return finished.value


async def _shown_later(
    resolved: Awaitable[Any],
    source: Any,
    field_name: str,
    context: Any,
    role: Any,
    rule: Any,
    complete: Completer,
    path: Path,
    run: Run,
) -> Any:
    try:
        value = shown(await resolved, source, field_name, context, role, rule)
    except Exception:
        return run.fail()
    completed = complete(value, path, run)
    if run.is_awaitable(completed):
        return await completed
    return completed


def _guarded(
    parent: GraphQLObjectType, key: str, field_name: str, read: Callable[[Any], Any], compiled: Compiled
) -> Step:
    """A guarded field read here: the guard's own ``field_access`` and ``shown``, without its wrappers."""
    type_name = parent.name
    complete, needs_path = compiled.complete, compiled.needs_path

    def step(source: Any, path: Path | None, run: Run) -> Any:
        context = run.executor.context_value
        role = context.principal.role
        try:
            rule = field_access(type_name, field_name, role)
            value = shown(read(source), source, field_name, context, role, rule)
        except Exception:
            return run.fail()
        return complete(value, Path(path, key, type_name) if needs_path else None, run)

    return step


def _constant(value: str) -> Step:
    def step(source: Any, path: Path | None, run: Run) -> Any:
        return value

    return step


def _leaf(serialize: Callable[[Any], Any], *, strings: bool) -> Completer:
    if strings:

        def complete_string(value: Any, path: Path | None, run: Run) -> Any:
            if value is None or type(value) is str:
                return value
            serialized = serialize(value)
            return run.fail() if serialized is None or serialized is Undefined else serialized

        return complete_string

    def complete(value: Any, path: Path | None, run: Run) -> Any:
        if value is None:
            return None
        serialized = serialize(value)
        return run.fail() if serialized is None or serialized is Undefined else serialized

    return complete


def _non_null(inner: Completer) -> Completer:
    def complete(value: Any, path: Path | None, run: Run) -> Any:
        if value is None:
            return run.fail()
        return inner(value, path, run)

    return complete


def _list(item: Compiled) -> Completer:
    complete_item, may_await, needs_path = item.complete, item.may_await, item.needs_path

    def complete(value: Any, path: Path | None, run: Run) -> Any:
        if value is None:
            return None
        if type(value) is not list and not is_iterable(value):
            return run.fail()
        if not needs_path:
            completed = [complete_item(v, None, run) for v in value]
        else:
            completed = [complete_item(v, Path(path, i, None), run) for i, v in enumerate(value)]
        if not may_await:
            return completed
        pending = [i for i, v in enumerate(completed) if run.is_awaitable(v)]
        return _gathered(completed, pending) if pending else completed

    return complete


def _object(steps: list[ObjectStep], is_type_of: Any, *, root: bool) -> Completer:
    def complete(value: Any, path: Path | None, run: Run) -> Any:
        if value is None and not root:
            return None
        if type(value) is Completed:
            return value.data
        if is_type_of is not None and not root:
            try:
                if not is_type_of(value, None):
                    return run.fail()
            except Exception:
                return run.fail()
        result: dict[str, Any] = {}
        pending: list[str] | None = None
        for key, step, may_await, leaf in steps:
            if leaf is not None:
                attribute, serialize, non_null, strings = leaf
                try:
                    read = getattr(value, attribute)
                    if read is None:
                        result[key] = run.fail() if non_null else None
                    elif strings and type(read) is str:
                        result[key] = read
                    else:
                        serialized = serialize(read)
                        failed = serialized is None or serialized is Undefined
                        result[key] = run.fail() if failed else serialized
                except Exception:
                    result[key] = run.fail()
                continue
            try:
                completed = step(value, path, run)
            except Exception:
                completed = run.fail()
            result[key] = completed
            if may_await and run.is_awaitable(completed):
                if pending is None:
                    pending = []
                pending.append(key)
        return _gathered(result, pending) if pending else result

    return complete


def _resolved(
    parent: GraphQLObjectType, key: str, field: GraphQLField, details: FieldDetailsList, complete: Completer
) -> Step:
    """A field with a resolver or field extensions: called like graphql-core calls it, with a real info."""
    nodes = [d.node for d in details]
    node = details[0].node
    has_arguments = bool(field.args or node.arguments)
    parent_name = parent.name

    def step(source: Any, path: Path | None, run: Run) -> Any:
        field_path = Path(path, key, parent_name)
        executor = run.executor
        info = executor.build_resolve_info(field, nodes, parent, field_path)
        try:
            arguments = (
                run.arguments(node, lambda: get_argument_values(field, node, executor.variable_values))
                if has_arguments
                else {}
            )
            resolved = (field.resolve or executor.field_resolver)(source, info, **arguments)
        except Exception:
            return run.fail()
        if run.is_awaitable(resolved):
            return _completed_later(resolved, complete, field_path, run)
        return complete(resolved, field_path, run)

    return step


async def _completed_later(resolved: Awaitable[Any], complete: Completer, path: Path, run: Run) -> Any:
    try:
        value = await resolved
    except Exception:
        return run.fail()
    completed = complete(value, path, run)
    if run.is_awaitable(completed):
        return await completed
    return completed


async def _gathered(container: Any, keys: list[Any]) -> Any:
    """``container`` with the awaitables at ``keys`` replaced by their results (one awaited directly)."""
    if len(keys) == 1:
        container[keys[0]] = await container[keys[0]]
    else:
        results = await asyncio.gather(*(container[k] for k in keys))
        for k, result in zip(keys, results, strict=True):
            container[k] = result
    return container
