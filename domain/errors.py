"""Errors the domain raises, each with a stable code that clients can branch on."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Machine-readable error codes shared by every operation."""

    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INTERNAL = "INTERNAL"


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
