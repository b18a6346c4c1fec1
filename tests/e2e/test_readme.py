"""The README does not drift from the code: the roles its banner shows, its error codes, its settings table.

Its GraphQL examples run as written against a served demo data set in ``test_serve.py``.
"""

from __future__ import annotations

import re

from pydantic import AliasChoices

from api.cli.seeding import demo_callers, welcome
from api.settings import Settings
from domain.errors import ErrorCode
from resolvers.errors import ServerErrorCode
from tests.e2e.readme import README, graphql_blocks, role_of, section

_TOKEN_LINE = re.compile(r"^  (\w+) +eyJ", re.M)


async def test_the_sample_banner_lists_every_role_the_banner_prints(settings: Settings) -> None:
    printed = welcome(settings, await demo_callers(settings))
    sample = README[README.index("and prints:") :].split("```")[1]
    assert _TOKEN_LINE.findall(sample) == _TOKEN_LINE.findall(printed)
    assert len(_TOKEN_LINE.findall(printed)) == 6


def test_every_error_code_the_server_can_return_is_in_the_list() -> None:
    listed = set(re.findall(r"`([A-Z][A-Z_]+)`", section("Errors")))
    codes = {code.value for code in ErrorCode} | {code.value for code in ServerErrorCode}
    assert codes - listed == set()


def test_every_setting_is_in_the_configuration_table() -> None:
    rows = [line.split("|")[1] for line in section("Configuration").splitlines() if line.startswith("| `")]
    # A row may name several variables, shortening the prefix: `CUSTOMER360_MAX_DEPTH`, `_MAX_TOKENS`.
    names = [name for row in rows for name in re.findall(r"`(\w+)`", row)]
    documented = {f"CUSTOMER360{name}" if name.startswith("_") else name for name in names}
    variables = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        aliased = isinstance(alias, AliasChoices)
        variables.add(str(alias.choices[0]) if aliased else f"CUSTOMER360_{name.upper()}")
    assert documented == variables


def test_every_example_that_needs_another_token_names_it() -> None:
    roles = [role_of(block) for block in graphql_blocks()]
    assert "customer" in roles, "the submitFeedback example says it needs the customer token"
    assert set(roles) <= {"frontline", "manager", "board", "customer", "integration", "bi"}
