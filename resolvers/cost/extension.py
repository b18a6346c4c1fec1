"""Refuses operations over a limit before validation or any resolver runs, and reports what they cost.

Tokens are capped while parsing; depth, aliases and cost are measured on the parsed document before
validation (whose own cost they bound) and a refusal becomes the operation's error, as validation's do,
so HTTP and WebSocket answer it alike; the caller's budget is charged the requested cost just before
execution and refunded what the response did not use. Over HTTP the cost is reported in
``extensions.cost``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from resolvers.context import Context
from resolvers.cost.measures import Measures
from resolvers.cost.shape import Pricing, Shape
from resolvers.errors import LimitExceeded, RateLimited

# Taken out of the result by the HTTP transport for its metrics and logs.
OPERATION_KEY = "customer360.operation"

# The documents' measures, worked out once per document (and values of its ``first`` variables).
MEASURES = Measures()


class OperationLimits(SchemaExtension):
    """Tokens, depth, aliases, cost per operation and cost per principal and minute."""

    def __init__(self, *, execution_context: Any = None) -> None:
        self._shape: Shape | None = None
        self._charged = 0
        self._report: dict[str, int | None] | None = None
        self._label: str | None = None

    def _context(self) -> Context | None:
        context = self.execution_context.context
        return context if isinstance(context, Context) else None

    def _pricing(self, context: Context) -> Pricing:
        settings = context.settings
        return Pricing(
            max_page_size=settings.max_page_size,
            mutation_cost=settings.mutation_cost,
            max_cost=settings.max_cost,
            introspection=settings.introspection_enabled,
        )

    def on_parse(self) -> Iterator[None]:
        context = self._context()
        if context is not None:
            # graphql-core stops lexing past this many tokens; resolvers/errors.py gives it its code.
            self.execution_context.parse_options["max_tokens"] = context.settings.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        context = self._context()
        document = self.execution_context.graphql_document
        if context is not None and document is not None:
            if not context.settings.introspection_enabled:
                rules = self.execution_context.validation_rules
                self.execution_context.validation_rules = (*rules, NoSchemaIntrospectionCustomRule)
            self._label = MEASURES.label(
                self.execution_context.schema._schema, document, self.execution_context.operation_name
            )
            self._shape = MEASURES.shape(
                self.execution_context.schema._schema,
                document,
                self.execution_context.operation_name,
                self.execution_context.variables,
                self._pricing(context),
            )
            refused = self._refusal(context, self._shape)
            if refused is not None:
                # Refused the way validation refuses, with the operation's errors, which every transport
                # answers; an exception raised here would escape strawberry's streaming path (WebSocket),
                # which then ends the operation with a bare `complete`.
                self.execution_context.pre_execution_errors = [
                    GraphQLError(refused.message, original_error=refused)
                ]
        yield

    def _refusal(self, context: Context, shape: Shape | None) -> LimitExceeded | None:
        if shape is None:
            return None
        settings = context.settings
        if shape.too_complex:
            return LimitExceeded("the document's fragments are too complex to run", limit="complexity")
        if shape.depth > settings.max_depth:
            return LimitExceeded(
                f"the operation is {shape.depth} fields deep; at most {settings.max_depth} are allowed",
                limit="depth",
            )
        if shape.aliases > settings.max_aliases:
            return LimitExceeded(
                f"the operation uses {shape.aliases} aliases; at most {settings.max_aliases} are allowed",
                limit="aliases",
            )
        if shape.cost > settings.max_cost:
            self._report = self._cost(context, actual=0, remaining=None)
            costs = str(shape.cost) if shape.exact else f"more than {settings.max_cost}"
            return LimitExceeded(
                f"the operation costs {costs}; at most {settings.max_cost} is allowed per request",
                limit="cost",
            )
        return None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self._context()
        shape = self._shape
        if context is None or shape is None:
            yield
            return
        budget = context.cost_budget
        key = f"{context.principal.role.value}:{context.principal.subject}"
        if budget.enabled:
            charge = budget.charge(key, shape.cost)
            if not charge.granted:
                self._report = self._cost(context, actual=0, remaining=charge.remaining)
                raise RateLimited(
                    f"the operation costs {shape.cost} and {charge.remaining} is left of the budget of "
                    f"{budget.per_minute} per minute; retry in {charge.retry_after:.1f} s",
                    retry_after=charge.retry_after,
                )
            self._charged = shape.cost
        yield
        result = self.execution_context.result
        data = getattr(result, "data", None)
        document = self.execution_context.graphql_document
        actual = 0
        if document is not None and data is not None:
            cost = MEASURES.response_cost(
                self.execution_context.schema._schema,
                document,
                self.execution_context.operation_name,
                self._pricing(context),
            )
            actual = cost.of(data) if cost is not None else 0
        remaining = budget.refund(key, self._charged - actual)
        self._report = self._cost(context, actual=actual, remaining=remaining)

    def _cost(self, context: Context, *, actual: int, remaining: int | None) -> dict[str, int | None]:
        settings = context.settings
        return {
            "requested": self._shape.cost if self._shape else 0,
            "actual": actual,
            "maximum": settings.max_cost,
            "remaining": remaining,
            "budgetPerMinute": settings.cost_budget_per_minute or None,
        }

    def get_results(self) -> dict[str, Any]:
        context = self._context()
        # Subscription streams and WebSocket results stay as the protocol defines them.
        if context is None or isinstance(context.request, WebSocket):
            return {}
        results: dict[str, Any] = {}
        if self._label is not None:
            results[OPERATION_KEY] = self._label
        if self._report is not None:
            results["cost"] = self._report
        return results
