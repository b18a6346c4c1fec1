"""Errors the domain raises, each with a stable code that clients can branch on."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """Machine-readable error codes shared by every operation."""

    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INTERNAL = "INTERNAL"
    # Refusals before execution (limits, rate, trusted documents) and operational failures.
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    RATE_LIMITED = "RATE_LIMITED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    TRUSTED_DOCUMENT_REQUIRED = "TRUSTED_DOCUMENT_REQUIRED"
    TIMEOUT = "TIMEOUT"
    UNAVAILABLE = "UNAVAILABLE"


class DomainError(Exception):
    """A failure the caller caused or can act on; its message is safe to show."""

    code: ErrorCode = ErrorCode.INTERNAL

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


class LimitExceeded(DomainError):
    """The request is larger or costlier than a configured limit allows; nothing was executed."""

    code = ErrorCode.LIMIT_EXCEEDED

    def __init__(self, message: str, *, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class RateLimited(DomainError):
    """The caller spent its cost budget for now; nothing was executed."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """The database cannot be reached; the operation failed without waiting for it."""

    code = ErrorCode.UNAVAILABLE


class TimedOut(DomainError):
    """The operation ran past the request time limit and was stopped."""

    code = ErrorCode.TIMEOUT
