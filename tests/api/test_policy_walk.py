"""Deny by default: every root operation and every field has an entry in the policy table."""

from __future__ import annotations

from typing import Any

import strawberry

from api.settings import Settings
from auth.principal import Role
from resolvers.guards import unpoliced
from resolvers.schema import Query, build_schema
from tests.conftest import GraphQLClient, client_for


@strawberry.type(description="A type added without a policy.")
class Secret:
    value: int = strawberry.field(description="Something nobody should read.")


@strawberry.type(name="Query", description="The real query plus one operation nobody wrote a policy for.")
class QueryWithAnUnpolicedField(Query):
    @strawberry.field(description="An operation without a policy.")
    def secret(self) -> Secret:
        return Secret(value=42)


def test_every_operation_and_field_of_the_schema_has_a_policy() -> None:
    assert unpoliced(build_schema()._schema) == []


def test_the_walk_reports_an_operation_and_a_field_added_without_a_policy() -> None:
    schema = build_schema(QueryWithAnUnpolicedField)
    assert unpoliced(schema._schema) == ["Query.secret", "Secret.value"]


async def test_an_operation_without_a_policy_is_forbidden_for_every_role(
    settings: Settings, token: Any
) -> None:
    async with client_for(settings, schema=build_schema(QueryWithAnUnpolicedField)) as http:
        for role in Role:
            client = GraphQLClient(http, token(role))
            body = await client.result("{ secret { value } }")
            assert body["data"] is None
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
