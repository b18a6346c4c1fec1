"""Bearer tokens: verification with pinned algorithms, and signed tokens for each role."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import jwt

from auth.keys import NoSigningKey
from auth.principal import Principal, Role
from domain.errors import Unauthenticated

REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "role"]


@dataclass(frozen=True, slots=True)
class TokenSettings:
    """What verifying (and, in development, issuing) tokens needs; the server builds it from its settings."""

    algorithms: tuple[str, ...]
    issuer: str
    audience: str
    leeway_seconds: int
    # The HMAC secret (HS*) or the public key (RS*/ES*); None when keys come from ``jwks_url``.
    key: str | None
    jwks_url: str | None = None
    dev_token_ttl_seconds: int = 12 * 3600
    # Development only: the secret or PEM private key development tokens are signed with; never in production.
    signing_key: str | None = None
    # Longer Authorization values (or WebSocket tokens) are refused before any signature work.
    max_authorization_bytes: int = 8192


class TokenVerifier:
    """Checks signature, algorithm, expiry, issuer and audience, then builds the principal."""

    def __init__(self, settings: TokenSettings) -> None:
        self._algorithms = list(settings.algorithms)
        self._issuer = settings.issuer
        self._audience = settings.audience
        self._leeway = settings.leeway_seconds
        self._max_bytes = settings.max_authorization_bytes
        self._jwks = jwt.PyJWKClient(settings.jwks_url) if settings.jwks_url else None
        self._key = settings.key or ""

    async def principal(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer`` header value."""
        if not authorization:
            raise Unauthenticated("missing bearer token")
        if len(authorization) > self._max_bytes:
            raise Unauthenticated(f"the authorization exceeds {self._max_bytes} bytes")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization must be a bearer token")
        claims = await self.claims(token.strip())
        principal = Principal.from_claims(claims)
        return replace(principal, accepted_until=_numeric_date(claims["exp"]) + self._leeway)

    async def claims(self, token: str) -> dict[str, object]:
        """The verified claims of ``token``."""
        try:
            key: object = self._key if self._jwks is None else await self._signing_key(token)
            claims: dict[str, object] = jwt.decode(
                token,
                key=key,  # type: ignore[arg-type]
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"invalid token: {error}") from None
        return claims

    async def _signing_key(self, token: str) -> object:
        assert self._jwks is not None
        # The JWKS client does blocking HTTP (cached); keep it off the event loop.
        signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        return signing_key.key


def _numeric_date(value: object) -> float:
    """A date claim the decoder accepted: it took ``int(value)``, so a number or a string of digits."""
    return float(value) if isinstance(value, int | float) else float(str(value))


def issue_dev_token(
    settings: TokenSettings, *, role: Role, subject: str, regions: Sequence[str] = (), ttl: int | None = None
) -> str:
    """A development token, signed with the development key (NoSigningKey in production, or without one)."""
    if settings.signing_key is None:
        raise NoSigningKey(
            "no development signing key: in production, tokens come from the identity provider"
        )
    algorithm = settings.algorithms[0]
    return issue_token(
        settings, settings.signing_key, algorithm, role=role, subject=subject, regions=regions, ttl=ttl
    )


def issue_token(
    settings: TokenSettings,
    key: str,
    algorithm: str,
    *,
    role: Role,
    subject: str,
    regions: Sequence[str] = (),
    ttl: int | None = None,
) -> str:
    """A token with the configured issuer and audience, signed with ``key`` (secret or PEM private key)."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        "role": role.value,
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + (ttl or settings.dev_token_ttl_seconds),
    }
    if regions:
        claims["regions"] = list(regions)
    return jwt.encode(claims, key, algorithm=algorithm)
