"""Errors the domain raises, each with a stable code that clients can branch on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


class ErrorCode(StrEnum):
    """Why the domain refused a request; the codes a mutation's result can carry."""

    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    NOT_STARTED = "NOT_STARTED"  # a batch item its request's time limit left unstarted: nothing stored
    MAYBE_STORED = "MAYBE_STORED"  # a batch item whose commit went unconfirmed by the limit: maybe stored


class DomainError(Exception):
    """A failure the caller caused or can act on; its message is safe to show. Subclasses set ``code``."""

    code: ClassVar[ErrorCode]

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """The request's arguments break a rule; nothing was read or written."""

    code = ErrorCode.VALIDATION


class NotFound(DomainError):
    """The record does not exist or is outside what the caller may see."""

    code = ErrorCode.NOT_FOUND


class Unauthenticated(DomainError):
    """The caller did not prove who it is."""

    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    code = ErrorCode.FORBIDDEN


class Conflict(DomainError):
    """The record changed since the caller read it, or is not in a state that allows the change."""

    code = ErrorCode.CONFLICT


class IdempotencyConflict(DomainError):
    """The idempotency key was used before with different content."""

    code = ErrorCode.IDEMPOTENCY_CONFLICT


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule of one input field."""

    field: str
    code: str
    message: str


class ValidationFailed(InvalidInput):
    """Several fields break rules; nothing was written."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors), field=errors[0].field)
        self.errors = errors
