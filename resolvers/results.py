"""Typed errors of mutation results: every mutation returns its result or one of these, never a bare error."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import strawberry

from domain.errors import Conflict, DomainError, IdempotencyConflict, InvalidInput, NotFound, ValidationFailed
from resolvers.enums import ErrorCode

T = TypeVar("T")


@strawberry.interface(description="Why a mutation did not happen; nothing was written.")
class Error:
    code: ErrorCode = strawberry.field(description="Machine-readable reason.")
    message: str = strawberry.field(description="Human-readable reason.")


@strawberry.type(description="One broken rule of one input field.")
class FieldProblem:
    field: str = strawberry.field(description="Path of the input field, e.g. items.0.perception.")
    code: str = strawberry.field(description="Which rule, e.g. OUT_OF_RANGE or REQUIRED.")
    message: str = strawberry.field(description="What the rule asks for.")


@strawberry.type(description="The input breaks one or more rules.")
class ValidationError(Error):
    fields: list[FieldProblem] = strawberry.field(description="Every broken rule.")


@strawberry.type(description="The record does not exist, or is not visible to the caller.")
class NotFoundError(Error):
    pass


@strawberry.type(description="The record changed since it was read, or its state does not allow this.")
class ConflictError(Error):
    pass


@strawberry.type(description="The idempotency key was used before with different content.")
class IdempotencyConflictError(Error):
    pass


AnyError = ValidationError | NotFoundError | ConflictError | IdempotencyConflictError


def error_of(error: DomainError) -> AnyError:
    """The typed result for a domain error a mutation expects."""
    if isinstance(error, ValidationFailed):
        problems = [FieldProblem(field=e.field, code=e.code, message=e.message) for e in error.errors]
        return ValidationError(code=error.code, message=error.message, fields=problems)
    if isinstance(error, InvalidInput):
        field = error.field or "input"
        problem = FieldProblem(field=field, code="INVALID", message=error.message)
        return ValidationError(code=error.code, message=error.message, fields=[problem])
    if isinstance(error, NotFound):
        return NotFoundError(code=error.code, message=error.message)
    if isinstance(error, IdempotencyConflict):
        return IdempotencyConflictError(code=error.code, message=error.message)
    if isinstance(error, Conflict):
        return ConflictError(code=error.code, message=error.message)
    raise error


async def attempt(work: Awaitable[T]) -> T | AnyError:
    """The outcome of ``work``, with expected domain errors turned into typed results."""
    try:
        return await work
    except DomainError as error:
        return error_of(error)
