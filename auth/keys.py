"""Keys for tokens: the development key pair generated under the data directory, and checks of private keys.

The server verifies with the configured secret, public key or JWKS. Only development mints tokens (the
start-up banner, ``customer360 token`` without a key of its own): with the HMAC secret,
``CUSTOMER360_JWT_PRIVATE_KEY``, or, when no public-key material is configured at all, a key pair generated
once under the data directory whose public half the server then verifies with (``api.settings`` decides).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES256K": ec.SECP256K1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
    "ES521": ec.SECP521R1(),
}


class NoSigningKey(Exception):
    """Nothing here may sign tokens; the message says what to do instead."""


def is_hmac(algorithm: str) -> bool:
    return algorithm.upper().startswith("HS")


def check_signing_key(private_pem: str, algorithm: str, public: str | None = None) -> None:
    """Raises ValueError unless ``private_pem`` signs ``algorithm`` tokens (that ``public`` verifies)."""
    try:
        probe = jwt.encode({"probe": True}, private_pem, algorithm=algorithm)
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise ValueError(f"the private key cannot sign {algorithm} tokens: {error}") from None
    if public is not None:
        try:
            jwt.decode(probe, public, algorithms=[algorithm])
        except (ValueError, TypeError, jwt.PyJWTError):
            raise ValueError("the private key is not the private half of the public key") from None


def public_pem(private_pem: str) -> str:
    """The public half (SubjectPublicKeyInfo PEM) of a PEM private key."""
    key = load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def development_pair(data_dir: Path, algorithm: str) -> str:
    """The private key (PEM) of the development pair for ``algorithm``, generated on first use."""
    path = data_dir / f"dev-jwt-{algorithm.lower()}.pem"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        pem = _generate(algorithm).private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        # Written aside and linked into place: a second process starting at once keeps the first pair.
        draft = data_dir / f".{path.name}.{secrets.token_hex(8)}"
        draft.write_bytes(pem)
        draft.chmod(0o600)
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text()


def _generate(algorithm: str) -> PrivateKey:
    if algorithm.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm in _CURVES:
        return ec.generate_private_key(_CURVES[algorithm])
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise NoSigningKey(
        f"no development key pair for {algorithm}: "
        "set CUSTOMER360_JWT_PUBLIC_KEY and CUSTOMER360_JWT_PRIVATE_KEY"
    )
