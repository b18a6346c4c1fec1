"""Trusted documents: an allowlist of persisted operations by id, and Automatic Persisted Queries.

The allowlist is a JSON file ``{"<id>": "<document>"}`` (ids such as ``sha256:<hex>``, or any name). A request
names a document with ``documentId`` (GraphQL over HTTP), ``id`` (Relay) or
``extensions.persistedQuery.sha256Hash`` (APQ). When trusted documents are required, only allowlisted
documents run, whether named by id or sent in full. Otherwise APQ lets a client register a document by
sending it once with its hash; that cache lives in each replica, which the APQ protocol tolerates (a
replica that does not know a hash asks the client for the document).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson

from domain.errors import InvalidInput
from resolvers.errors import Refused, ServerErrorCode

APQ_CACHE_SIZE = 2048


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedDocuments:
    """Resolves a request's document from its text, its id or its hash."""

    def __init__(
        self,
        allowlist: dict[str, str],
        *,
        trusted_only: bool,
        automatic: bool,
        cache_size: int = APQ_CACHE_SIZE,
    ) -> None:
        self._by_id = dict(allowlist)
        self._by_hash = {sha256_of(text): text for text in allowlist.values()}
        self._trusted_only = trusted_only
        self._automatic = automatic and not trusted_only
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def load(cls, path: Path | None, *, trusted_only: bool, automatic: bool) -> PersistedDocuments:
        """The allowlist read from ``path`` (none when unset); a malformed file stops the start-up."""
        allowlist: dict[str, str] = {}
        if path is not None:
            loaded = orjson.loads(path.read_bytes())
            if not isinstance(loaded, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
            ):
                raise ValueError(f"{path} must hold a JSON object of id -> GraphQL document")
            allowlist = loaded
        return cls(allowlist, trusted_only=trusted_only, automatic=automatic)

    def __len__(self) -> int:
        return len(self._by_id)

    def resolve(self, query: str | None, document_id: str | None, extensions: dict[str, Any] | None) -> str:
        """The document to run, or ``Refused``/``InvalidInput`` when there is none allowed."""
        if document_id is not None:
            found = self._by_id.get(document_id)
            if found is None and document_id.startswith("sha256:"):
                found = self._by_hash.get(document_id.removeprefix("sha256:"))
            if found is None:
                raise Refused(
                    ServerErrorCode.PERSISTED_QUERY_NOT_FOUND, f"no persisted document {document_id!r}"
                )
            return found
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is not None:
            return self._automatic_query(query, persisted)
        if query is None:
            raise InvalidInput("the request has no query, documentId or persisted query hash", field="query")
        if self._trusted_only and sha256_of(query) not in self._by_hash:
            raise Refused(
                ServerErrorCode.TRUSTED_DOCUMENT_REQUIRED, "only trusted (persisted) documents are accepted"
            )
        return query

    def _automatic_query(self, query: str | None, persisted: object) -> str:
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise InvalidInput("persistedQuery must be {version: 1, sha256Hash}", field="extensions")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str):
            raise InvalidInput("persistedQuery.sha256Hash must be a string", field="extensions")
        if query is not None:
            if sha256_of(query) != digest:
                raise InvalidInput("provided sha does not match query", field="extensions")
            if digest in self._by_hash:
                return query
            if not self._automatic:
                code = (
                    ServerErrorCode.TRUSTED_DOCUMENT_REQUIRED
                    if self._trusted_only
                    else ServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED
                )
                raise Refused(code, "this server does not register persisted queries")
            self._remember(digest, query)
            return query
        if digest in self._by_hash:
            return self._by_hash[digest]
        if digest in self._cache:
            self._cache.move_to_end(digest)
            return self._cache[digest]
        if not self._automatic:
            code = (
                ServerErrorCode.PERSISTED_QUERY_NOT_FOUND
                if self._trusted_only
                else ServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED
            )
            message = "PersistedQueryNotFound" if self._trusted_only else "PersistedQueryNotSupported"
            raise Refused(code, message)
        # Apollo clients recognise this exact message and resend the query with its hash.
        raise Refused(ServerErrorCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound")

    def _remember(self, digest: str, query: str) -> None:
        self._cache[digest] = query
        self._cache.move_to_end(digest)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
