"""Bearer authentication of the GraphQL endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from api.settings import Settings
from auth.principal import Role
from tests.conftest import TEST_SECRET, client_for

QUERY = {"query": "{ customers(first: 1) { edges { cursor } } }"}


def claims(**overrides: Any) -> dict[str, Any]:
    base = {
        "sub": "u1",
        "role": "frontline",
        "regions": ["north"],
        "iss": "customer360",
        "aud": "customer360",
        "exp": int(time.time()) + 60,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


async def assert_unauthenticated(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await http.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_missing_token_is_401_unauthenticated(http: httpx.AsyncClient) -> None:
    await assert_unauthenticated(http, {})


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(jwt.encode(claims(exp=int(time.time()) - 3600), TEST_SECRET), id="expired"),
        pytest.param(jwt.encode(claims(aud="someone-else"), TEST_SECRET), id="wrong-audience"),
        pytest.param(jwt.encode(claims(iss="someone-else"), TEST_SECRET), id="wrong-issuer"),
        pytest.param(jwt.encode(claims(), "another-secret-of-sufficient-length-xyz"), id="wrong-key"),
        pytest.param(jwt.encode(claims(), TEST_SECRET)[:-4] + "AAAA", id="tampered-signature"),
        pytest.param(jwt.encode(claims(), None, algorithm="none"), id="alg-none"),
        pytest.param(jwt.encode(claims(role=None), TEST_SECRET), id="missing-role"),
        pytest.param(jwt.encode(claims(role="admin"), TEST_SECRET), id="unknown-role"),
        pytest.param(jwt.encode(claims(exp=None), TEST_SECRET), id="missing-exp"),
        pytest.param(jwt.encode(claims(regions=None), TEST_SECRET), id="frontline-without-regions"),
        pytest.param("not-a-jwt", id="garbage"),
    ],
)
async def test_invalid_tokens_are_401_unauthenticated(http: httpx.AsyncClient, token: str) -> None:
    await assert_unauthenticated(http, {"Authorization": f"Bearer {token}"})


async def test_non_bearer_scheme_is_401(http: httpx.AsyncClient) -> None:
    await assert_unauthenticated(http, {"Authorization": "Basic dXNlcjpwYXNz"})


async def test_valid_token_is_accepted_and_response_has_a_request_id(
    http: httpx.AsyncClient, token: Any
) -> None:
    response = await http.post(
        "/graphql",
        json=QUERY,
        headers={"Authorization": f"Bearer {token(Role.FRONTLINE)}", "X-Request-Id": "abc-123"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"customers": {"edges": []}}
    assert "errors" not in body
    assert response.headers["x-request-id"] == "abc-123"


@pytest.mark.parametrize(
    "expires",
    [
        pytest.param(int(time.time()) + 60, id="integer"),
        pytest.param(time.time() + 60.5, id="fraction"),
        pytest.param(str(int(time.time()) + 60), id="string-of-digits"),
    ],
)
async def test_every_expiry_the_decoder_accepts_is_accepted(http: httpx.AsyncClient, expires: object) -> None:
    # The expiry is kept (a WebSocket closes at it): each form PyJWT takes must be read, not fail the request.
    bearer = jwt.encode(claims(exp=expires), TEST_SECRET)
    response = await http.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer {bearer}"})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"customers": {"edges": []}}


def test_settings_refuse_mixing_hmac_and_public_key_algorithms() -> None:
    with pytest.raises(ValueError, match="not both"):
        Settings(jwt_algorithms=["HS256", "RS256"], jwt_public_key="x")


def test_settings_refuse_the_none_algorithm() -> None:
    with pytest.raises(ValueError, match="none"):
        Settings(jwt_algorithms=["none"])


async def test_hmac_token_signed_with_the_public_key_is_refused_when_rs256_is_pinned(
    settings: Settings,
) -> None:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    )
    rs_settings = settings.model_copy(update={"jwt_algorithms": ["RS256"], "jwt_public_key": public_pem})
    good = jwt.encode(claims(), private_key, algorithm="RS256")
    # Key confusion: an attacker signs an HS256 token using the (public) verification key as the secret.
    forged = hmac_token_with_key(claims(), public_pem.encode())
    async with client_for(rs_settings) as http:
        accepted = await http.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer {good}"})
        assert accepted.status_code == 200
        await assert_unauthenticated(http, {"Authorization": f"Bearer {forged}"})


def hmac_token_with_key(payload: dict[str, Any], key: bytes) -> str:
    """An HS256 JWT built by hand, since PyJWT itself refuses PEM keys as HMAC secrets."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + b"." + b64(json.dumps(payload).encode())
    signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()
