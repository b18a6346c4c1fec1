"""Public-key tokens (RS256, ES256) through ``customer360 serve``, and who may mint tokens where.

A production server verifies tokens and never mints or prints one; the ``token`` command signs in production
only with a key named on its own command line. In development, demo tokens are signed with a private key:
the one configured, or a pair generated under the data directory whose public half the server verifies with.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from api.settings import Settings
from api.storage.embedded import free_port
from tests.conftest import TEST_SECRET
from tests.e2e.servers import Server

START_DEADLINE = 60.0
VIEWER = {"query": "{ viewer { subject role } }"}
CUSTOMER360 = str(Path(sys.executable).with_name("customer360"))


def key_pair(algorithm: str) -> tuple[str, str]:
    """A fresh (private PEM, public PEM) pair for ``algorithm``."""
    private = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm.startswith("RS")
        else ec.generate_private_key(ec.SECP256R1())
    )
    private_pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return private_pem, public_pem


def signed(private_pem: str, algorithm: str, *, role: str = "bi", subject: str = "dashboards") -> str:
    claims = {
        "sub": subject,
        "role": role,
        "iss": "customer360",
        "aud": "customer360",
        "exp": int(time.time()) + 600,
    }
    return jwt.encode(claims, private_pem, algorithm=algorithm)


def viewer(port: int, token: str) -> dict[str, object]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        response = http.post("/graphql", json=VIEWER, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    assert "errors" not in body, body
    return body


@pytest.fixture
def database(mongodb_uri: str) -> dict[str, str]:
    """The session's database server, a database of this test's own, no demo data."""
    return {"MONGODB_URI": mongodb_uri, "CUSTOMER360_DATABASE_NAME": f"test_{uuid.uuid4().hex[:16]}"}


def start(data_dir: Path, env: dict[str, str]) -> Server:
    """``serve`` until its banner is complete: the line after the tokens, or the production instructions."""
    server = Server(data_dir, free_port(), env, "--no-demo")
    try:
        server.wait_for("customer360 is running", time.monotonic() + START_DEADLINE)
        last = "customer360 token" if env.get("CUSTOMER360_ENVIRONMENT") == "production" else "Development"
        server.wait_for(last, time.monotonic() + START_DEADLINE)
    except BaseException:
        server.stop()
        raise
    return server


def printed_tokens(server: Server) -> list[str]:
    return [word for line in server.output for word in line.split() if word.startswith("eyJ")]


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_development_serves_with_a_configured_key_pair_and_prints_tokens_signed_by_its_private_key(
    tmp_path: Path, database: dict[str, str], algorithm: str
) -> None:
    private_pem, public_pem = key_pair(algorithm)
    env = {
        **database,
        "CUSTOMER360_JWT_ALGORITHMS": algorithm,
        "CUSTOMER360_JWT_PUBLIC_KEY": public_pem,
        "CUSTOMER360_JWT_PRIVATE_KEY": private_pem,
    }
    server = start(tmp_path / "data", env)
    try:
        banner_token = server.token("frontline")
        assert jwt.get_unverified_header(banner_token)["alg"] == algorithm
        jwt.decode(banner_token, public_pem, algorithms=[algorithm], audience="customer360")
        assert viewer(server.port, banner_token)["data"] == {
            "viewer": {
                "subject": jwt.decode(banner_token, options={"verify_signature": False})["sub"],
                "role": "FRONTLINE",
            }
        }
        # A token signed elsewhere with the same private key is as good as the banner's.
        assert viewer(server.port, signed(private_pem, algorithm))["data"] == {
            "viewer": {"subject": "dashboards", "role": "BI"}
        }
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_production_serves_tokens_signed_by_the_private_key_and_prints_none(
    tmp_path: Path, database: dict[str, str], algorithm: str
) -> None:
    private_pem, public_pem = key_pair(algorithm)
    env = {
        **database,
        "CUSTOMER360_ENVIRONMENT": "production",
        "CUSTOMER360_JWT_ALGORITHMS": algorithm,
        "CUSTOMER360_JWT_PUBLIC_KEY": public_pem,
    }
    server = start(tmp_path / "data", env)
    try:
        assert printed_tokens(server) == []
        assert viewer(server.port, signed(private_pem, algorithm))["data"] == {
            "viewer": {"subject": "dashboards", "role": "BI"}
        }
        other_private, _ = key_pair(algorithm)
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as http:
            forged = http.post(
                "/graphql",
                json=VIEWER,
                headers={"Authorization": f"Bearer {signed(other_private, algorithm)}"},
            )
        assert forged.status_code == 401
        assert forged.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        assert server.stop() == 0


def test_production_with_an_hmac_secret_never_prints_tokens(tmp_path: Path, database: dict[str, str]) -> None:
    env = {**database, "CUSTOMER360_ENVIRONMENT": "production", "CUSTOMER360_JWT_SECRET": TEST_SECRET}
    server = start(tmp_path / "data", env)
    try:
        banner = "".join(server.output)
        assert printed_tokens(server) == [], banner
        assert "never issues tokens" in banner
        assert "--secret-file" in banner
    finally:
        assert server.stop() == 0


def test_development_with_only_a_public_key_prints_no_tokens_and_says_how_to_sign_one(
    tmp_path: Path, database: dict[str, str]
) -> None:
    private_pem, public_pem = key_pair("RS256")
    env = {**database, "CUSTOMER360_JWT_ALGORITHMS": "RS256", "CUSTOMER360_JWT_PUBLIC_KEY": public_pem}
    server = start(tmp_path / "data", env)
    try:
        assert printed_tokens(server) == []
        assert "--private-key" in "".join(server.output)
        assert viewer(server.port, signed(private_pem, "RS256"))["data"] == {
            "viewer": {"subject": "dashboards", "role": "BI"}
        }
    finally:
        assert server.stop() == 0


def test_development_without_keys_generates_a_pair_that_the_banner_and_token_command_sign_with(
    tmp_path: Path, database: dict[str, str]
) -> None:
    data_dir = tmp_path / "data"
    env = {**database, "CUSTOMER360_JWT_ALGORITHMS": "ES256"}
    server = start(data_dir, env)
    try:
        banner_token = server.token("bi")
        assert jwt.get_unverified_header(banner_token)["alg"] == "ES256"
        assert viewer(server.port, banner_token)["data"] == {"viewer": {"subject": "bi-dev", "role": "BI"}}
        command = token_command(data_dir, env, "--role", "board", "--sub", "cli-board")
        assert command.returncode == 0, command.stderr
        assert viewer(server.port, command.stdout.strip())["data"] == {
            "viewer": {"subject": "cli-board", "role": "BOARD"}
        }
    finally:
        assert server.stop() == 0


def token_command(data_dir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``customer360 token`` with only ``env`` set among the server's variables."""
    clean = {k: v for k, v in os.environ.items() if k != "MONGODB_URI" and not k.startswith("CUSTOMER360_")}
    clean |= {"CUSTOMER360_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [CUSTOMER360, "token", *args], env=clean, capture_output=True, text=True, timeout=120, check=False
    )


PRODUCTION_HS = {"CUSTOMER360_ENVIRONMENT": "production", "CUSTOMER360_JWT_SECRET": TEST_SECRET}


def test_the_token_command_refuses_in_production_without_a_key_on_its_command_line(tmp_path: Path) -> None:
    refused = token_command(tmp_path, PRODUCTION_HS, "--role", "board")
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "production" in refused.stderr
    assert "--secret-file" in refused.stderr
    assert "--private-key" in refused.stderr
    assert not list(tmp_path.iterdir()), "nothing was generated"


def test_the_token_command_signs_in_production_with_a_secret_file_named_on_its_command_line(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "secret"
    secret.write_text(TEST_SECRET + "\n")
    made = token_command(tmp_path, PRODUCTION_HS, "--role", "board", "--secret-file", str(secret))
    assert made.returncode == 0, made.stderr
    claims = jwt.decode(made.stdout.strip(), TEST_SECRET, algorithms=["HS256"], audience="customer360")
    assert claims["role"] == "board"


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_the_token_command_signs_in_production_with_a_private_key_named_on_its_command_line(
    tmp_path: Path, algorithm: str
) -> None:
    private_pem, public_pem = key_pair(algorithm)
    key_file = tmp_path / "private.pem"
    key_file.write_text(private_pem)
    production = {
        "CUSTOMER360_ENVIRONMENT": "production",
        "CUSTOMER360_JWT_ALGORITHMS": algorithm,
        "CUSTOMER360_JWT_PUBLIC_KEY": public_pem,
    }
    refused = token_command(tmp_path, production, "--role", "bi")
    assert refused.returncode == 2
    assert "--private-key" in refused.stderr

    made = token_command(
        tmp_path, production, "--role", "manager", "--regions", "north", "--private-key", str(key_file)
    )
    assert made.returncode == 0, made.stderr
    claims = jwt.decode(made.stdout.strip(), public_pem, algorithms=[algorithm], audience="customer360")
    assert (claims["role"], claims["regions"]) == ("manager", ["north"])


def test_the_token_command_in_development_with_only_a_public_key_asks_for_the_private_key(
    tmp_path: Path,
) -> None:
    _, public_pem = key_pair("RS256")
    env = {"CUSTOMER360_JWT_ALGORITHMS": "RS256", "CUSTOMER360_JWT_PUBLIC_KEY": public_pem}
    refused = token_command(tmp_path, env, "--role", "bi")
    assert refused.returncode == 2
    assert "--private-key" in refused.stderr


def test_settings_refuse_a_private_key_in_production() -> None:
    private_pem, public_pem = key_pair("ES256")
    with pytest.raises(ValueError, match="never mints tokens"):
        Settings(
            environment="production",
            jwt_algorithms=["ES256"],
            jwt_public_key=public_pem,
            jwt_private_key=private_pem,
        )


def test_settings_refuse_a_private_key_that_does_not_match_the_public_key_or_the_algorithm() -> None:
    private_pem, _ = key_pair("RS256")
    _, other_public = key_pair("RS256")
    with pytest.raises(ValueError, match="not the private half"):
        Settings(jwt_algorithms=["RS256"], jwt_public_key=other_public, jwt_private_key=private_pem)
    with pytest.raises(ValueError, match="cannot sign ES256"):
        Settings(jwt_algorithms=["ES256"], jwt_private_key=private_pem)
    with pytest.raises(ValueError, match="HS"):
        Settings(jwt_secret=TEST_SECRET, jwt_private_key=private_pem)
