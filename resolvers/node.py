"""Global object identification: the ``Node`` interface and opaque global ids."""

from __future__ import annotations

import base64
import binascii

import strawberry

from domain.errors import InvalidInput
from domain.ids import is_valid_id


def encode_global_id(type_name: str, record_id: str) -> strawberry.ID:
    """The global id of a record: its type name and id, base64url-encoded."""
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{record_id}".encode()).decode().rstrip("="))


def decode_global_id(global_id: str) -> tuple[str, str]:
    """The type name and record id inside a global id; anything malformed is invalid input."""
    try:
        raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(f"{global_id!r} is not a valid id", field="id") from None
    type_name, sep, record_id = raw.partition(":")
    if not sep or not type_name or not is_valid_id(record_id):
        raise InvalidInput(f"{global_id!r} is not a valid id", field="id")
    return type_name, record_id


def expect_global_id(global_id: str, type_name: str) -> str:
    """The record id of a global id that must name a ``type_name``."""
    found, record_id = decode_global_id(global_id)
    if found != type_name:
        raise InvalidInput(f"{global_id!r} is not a {type_name} id", field="id")
    return record_id


@strawberry.interface(description="An object with a globally unique id, fetchable with `node(id:)`.")
class Node:
    """Implemented by every record type; ``record_id`` and the GraphQL type name make the global id."""

    record_id: strawberry.Private[str]

    @strawberry.field(description="Globally unique, opaque id of this object.")
    def id(self) -> strawberry.ID:
        return encode_global_id(type(self).__name__, self.record_id)
