"""Enforces the policy table of ``auth.policy`` on the schema.

Which types a role can reach follows from its root operations and the fields it may read. A guard is attached
to every root operation and to every field that some reaching role may not see in full (or that must be
audited), so fields every reaching role sees in full cost nothing extra.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.extensions import FieldExtension
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from auth.policy import (
    NARROWED,
    OPERATIONS,
    ORDER,
    SELECTORS,
    Access,
    FieldRule,
    RoleView,
    field_rule,
    operation_allowed,
    refused_arguments,
    sees_in_full,
)
from auth.principal import Role
from domain.errors import Forbidden
from resolvers.context import Context, Info

ROOT = "Query"
MUTATION = "Mutation"
SUBSCRIPTION = "Subscription"
ROOTS = (ROOT, MUTATION, SUBSCRIPTION)


def _root_fields(schema: GraphQLSchema) -> dict[str, Any]:
    """Every root operation of the schema by name (names are unique across the three roots)."""
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return {name: field for root in roots if root is not None for name, field in root.fields.items()}


def role_view(schema: GraphQLSchema, role: Role) -> RoleView:
    """The operations ``role`` may call and, for each type it can reach, each field's access."""
    roots = _root_fields(schema)
    operations = tuple(name for name in roots if operation_allowed(role, name))
    types: dict[str, dict[str, Access]] = {}
    pending: list[GraphQLNamedType] = [get_named_type(roots[name].type) for name in operations]
    while pending:
        graphql_type = pending.pop()
        if isinstance(graphql_type, GraphQLUnionType):
            pending += graphql_type.types
        elif isinstance(graphql_type, GraphQLInterfaceType):
            pending += schema.get_possible_types(graphql_type)
        elif isinstance(graphql_type, GraphQLObjectType) and graphql_type.name not in types:
            access = {name: _access(graphql_type.name, name, role) for name in graphql_type.fields}
            types[graphql_type.name] = access
            pending += [
                get_named_type(graphql_type.fields[name].type)
                for name, shown in access.items()
                if shown is not Access.DENIED
            ]
    return RoleView(role, operations, dict(sorted(types.items())))


def _access(type_name: str, field_name: str, role: Role) -> Access:
    rule = field_rule(type_name, field_name)
    return rule.for_role(role) if rule else Access.DENIED


def unpoliced(schema: GraphQLSchema) -> list[str]:
    """Root operations and object-type fields that have no entry in the policy table."""
    missing: list[str] = []
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name in graphql_type.fields:
            if type_name in ROOTS:
                if field_name not in OPERATIONS:
                    missing.append(f"{type_name}.{field_name}")
            elif field_rule(type_name, field_name) is None:
                missing.append(f"{type_name}.{field_name}")
    return missing


def argument_paths(schema: GraphQLSchema) -> Iterator[tuple[str, str]]:
    """Each argument of each field that reads (not of mutations or subscriptions), as ("Type.field", path).

    The path of a field of an input-object argument is "argument.field", e.g. "filter.regions".
    """
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        if type_name in (MUTATION, SUBSCRIPTION):
            continue
        for field_name, field in graphql_type.fields.items():
            for name, argument in field.args.items():
                named = get_named_type(argument.type)
                if isinstance(named, GraphQLInputObjectType):
                    for part in named.fields:
                        yield f"{type_name}.{field_name}", f"{name}.{part}"
                else:
                    yield f"{type_name}.{field_name}", name


def undeclared_arguments(schema: GraphQLSchema) -> list[str]:
    """Arguments of read fields not saying which fields they compare (``SELECTORS``), and stale entries."""
    found = set(argument_paths(schema))
    declared = {(field, path) for field, paths in SELECTORS.items() for path in paths if path != ORDER}
    missing = [f"{field}({path})" for field, path in sorted(found - declared)]
    stale = [f"no such argument: {field}({path})" for field, path in sorted(declared - found)]
    return missing + stale


def unenforced_selectors(schema: GraphQLSchema) -> list[str]:
    """Arguments or orders of nested lists comparing a field that some role reading the list sees masked
    or hidden: only root operations refuse them, so these must not exist."""
    problems = []
    for role in Role:
        for type_name, fields in role_view(schema, role).types.items():
            for field_name, access in fields.items():
                field = f"{type_name}.{field_name}"
                if access is Access.DENIED or field not in SELECTORS:
                    continue
                problems += [
                    f"{role.value}: {field}({path})"
                    for path, compared in SELECTORS[field].items()
                    if (field, path) not in NARROWED and not sees_in_full(role, compared)
                ]
    return problems


def _given(value: Any) -> bool:
    """Whether an argument value narrows or orders anything (not null, false or empty)."""
    return value is not None and value is not False and value not in ("", [])


def require_selectable(info: Info) -> None:
    """Refuse a root operation whose order or given arguments compare what the caller cannot see in full."""
    role = info.context.principal.role
    field = f"{info.path.typename}.{info.field_name}"
    if not refused_arguments(role, field, SELECTORS.get(field, {})):
        return  # nothing it could use is refused to this role
    used = [ORDER]
    for argument in info._raw_info.field_nodes[0].arguments or ():
        value = value_from_ast_untyped(argument.value, info.variable_values)
        name = argument.name.value
        if isinstance(value, dict):
            used += [f"{name}.{part}" for part, inner in value.items() if _given(inner)]
        elif _given(value):
            used.append(name)
    if refused := refused_arguments(role, field, used):
        path = refused[0]
        if path == ORDER:
            raise Forbidden(f"the {role.value} role may not list {info.field_name} in their order")
        raise Forbidden(
            f"the {role.value} role may not select {info.field_name} by {path}", field=path.rsplit(".")[-1]
        )


def guarded_fields(schema: GraphQLSchema) -> set[tuple[str, str]]:
    """The (type, field) pairs that need a guard: some reaching role sees less than everything, or audit."""
    guarded: set[tuple[str, str]] = set()
    for role in Role:
        for type_name, fields in role_view(schema, role).types.items():
            for field_name, access in fields.items():
                rule = field_rule(type_name, field_name)
                if access is not Access.FULL or (rule is not None and rule.personal):
                    guarded.add((type_name, field_name))
    # Subscriptions are checked by their resolvers (``require_operation``): extensions cannot wrap streams.
    for root in (schema.query_type, schema.mutation_type):
        if root is not None:
            guarded.update((root.name, name) for name in root.fields)
    return guarded


def require_operation(info: Info) -> None:
    """Refuse the current root operation unless the caller's role may call it."""
    role = info.context.principal.role
    if not operation_allowed(role, info.field_name):
        raise Forbidden(f"the {role.value} role may not call {info.field_name}")


def field_access(type_name: str, field_name: str, role: Role) -> FieldRule:
    """The rule ``role`` reads a (non-root) field by; Forbidden when the table denies it."""
    rule = field_rule(type_name, field_name)
    if rule is None or rule.for_role(role) is Access.DENIED:
        raise Forbidden(f"the {role.value} role may not read {type_name}.{field_name}")
    return rule


def shown(
    value: Any, source: Any, field_name: str, context: Context, role: Role, rule: FieldRule | None
) -> Any:
    """The value as ``role`` may see it: masked, hidden or in full; personal data in full is audited."""
    if rule is None or value is None:
        return value
    access = rule.for_role(role)
    if access is Access.HIDDEN:
        return None
    if access is Access.MASKED:
        assert rule.mask is not None
        return rule.mask(value)
    if rule.personal and value not in ("", []):
        context.audit.saw(source.record_id, field_name)
    return value


class PolicyGuard(FieldExtension):
    """Applies the field's rule for the caller's role: operation check, mask, hide, deny, audit.

    The compiled executor applies the same two steps, ``field_access`` and ``shown``, to the guarded
    fields it reads itself (``resolvers/fastpath/plan.py``).
    """

    def _check(self, info: Info) -> tuple[Role, FieldRule | None]:
        role = info.context.principal.role
        parent = str(info.path.typename)
        if parent in ROOTS:
            require_operation(info)
            require_selectable(info)
            return role, None
        return role, field_access(parent, info.field_name, role)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        role, rule = self._check(info)
        return shown(next_(source, info, **kwargs), source, info.field_name, info.context, role, rule)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        role, rule = self._check(info)
        return shown(await next_(source, info, **kwargs), source, info.field_name, info.context, role, rule)


def attach_guards(
    definitions: Iterable[tuple[str, StrawberryObjectDefinition]],
    guarded: set[tuple[str, str]],
    graphql_name: Callable[[StrawberryField], str],
) -> None:
    """Adds a ``PolicyGuard`` to each guarded field of the given type definitions (once)."""
    for type_name, definition in definitions:
        for field in definition.fields:
            if (type_name, graphql_name(field)) in guarded and not _has_guard(field):
                field.extensions.append(PolicyGuard())


def _has_guard(field: StrawberryField) -> bool:
    return any(isinstance(e, PolicyGuard) for e in field.extensions)


def missing_guards(
    definitions: Iterable[tuple[str, StrawberryObjectDefinition]],
    guarded: set[tuple[str, str]],
    graphql_name: Callable[[StrawberryField], str],
) -> list[str]:
    """Guarded fields whose definition in the built schema carries no guard (a bug to fail on)."""
    present = {
        (type_name, graphql_name(field))
        for type_name, definition in definitions
        for field in definition.fields
        if _has_guard(field)
    }
    return sorted(f"{t}.{f}" for t, f in guarded - present)
