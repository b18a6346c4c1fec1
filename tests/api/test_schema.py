"""The committed schema matches the code, and documents every type, field, argument and enum value."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pytest
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from resolvers.enums import describe_enum
from resolvers.schema import build_schema, schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), "schema.graphql is stale: run `customer360 export-schema`"


def test_every_type_field_and_argument_has_a_description() -> None:
    schema = build_schema()._schema
    missing: list[str] = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({a})" for a, arg in field.args.items() if not arg.description
                ]
        if isinstance(graphql_type, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, field in graphql_type.fields.items() if not field.description]
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in graphql_type.values.items() if not value.description]
    for directive in schema.directives:
        missing += [f"@{directive.name}({a})" for a, arg in directive.args.items() if not arg.description]
    assert missing == []


def test_every_domain_enum_value_needs_a_description_to_register() -> None:
    class Unfinished(StrEnum):
        DONE = "DONE"
        NOT_YET = "NOT_YET"

    with pytest.raises(ValueError, match="NOT_YET"):
        describe_enum(Unfinished, "An enum with an undescribed value.", {Unfinished.DONE: "Finished."})
