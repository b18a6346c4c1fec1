"""Server configuration, read once from environment variables (``CUSTOMER360_*`` and ``MONGODB_URI``)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from auth.keys import NoSigningKey, check_signing_key, development_pair, public_pem
from auth.tokens import TokenSettings
from domain.aggregates.periods import time_zone
from domain.aggregates.tally import CUSTOMERS_KEPT
from domain.errors import InvalidInput
from resolvers.context import GraphQLSettings


class Environment(StrEnum):
    """Where the server runs; production turns the development conveniences off."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def exact_origin(value: str) -> str:
    """``value`` as browsers send it in ``Origin`` (lower case, no default port), or ValueError."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = urlsplit(""), None
    scheme, hostname = parts.scheme.lower(), parts.hostname
    if (
        hostname is None
        or scheme not in _DEFAULT_PORTS
        or "*" in text
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            f"CUSTOMER360_CORS_ORIGINS lists exact origins such as https://app.example.com "
            f"(scheme, host, optional port; no path, no wildcard), not {value!r}"
        )
    host = f"[{hostname}]" if ":" in hostname else hostname
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else "")


class Settings(BaseSettings):
    """Every setting of the server; build one with ``Settings()`` and hand it down explicitly."""

    model_config = SettingsConfigDict(
        env_prefix="CUSTOMER360_", extra="ignore", frozen=True, populate_by_name=True
    )

    environment: Environment = Environment.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    mongodb_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("MONGODB_URI", "CUSTOMER360_MONGODB_URI")
    )
    database_name: str = "customer360"
    data_dir: Path = Path(".customer360")
    # Demo data loaded on the first start of an empty embedded database.
    demo_customers: int = Field(default=400, ge=0)

    jwt_algorithms: Annotated[list[str], NoDecode] = ["HS256"]
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    # Development only: the PEM private key the banner and `customer360 token` sign RS*/ES* tokens with.
    jwt_private_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str = "customer360"
    jwt_audience: str = "customer360"
    jwt_leeway_seconds: int = Field(default=30, ge=0)
    dev_token_ttl_seconds: int = Field(default=12 * 3600, gt=0)

    graphiql: bool | None = None
    # The files GraphiQL loads; unset: the package's own (fetched into it when a wheel is built, or by
    # `make graphiql-assets` in a source checkout), whatever the working directory.
    graphiql_assets_dir: Path | None = None
    max_page_size: int = Field(default=100, ge=1, le=1000)
    # Queries through cached plans (resolvers/fastpath) instead of graphql-core's executor: proven equal by
    # tests/fastpath (and the whole suite passes either way), faster on every measured scenario.
    compiled_execution: bool = True
    # Serve the schema as an Apollo Federation subgraph (``_service``, ``_entities``, ``@key`` on entities).
    federation: bool = False
    # Root fields returning customers read everything selected below them in one aggregation pipeline
    # (resolvers/pipeline) instead of a command per loader batch; equal answers (tests/fastpath).
    compiled_pipelines: bool = True
    # How often each server process looks for overdue alerts to escalate and checks every touchpoint's window.
    escalation_sweep_seconds: float = Field(default=30.0, gt=0)
    # How long after a response arrives its touchpoint's window is checked (responses meanwhile share it).
    tactical_debounce_seconds: float = Field(default=5.0, gt=0)
    # Customers' standings and experience value follow every write through a change-stream worker (one
    # process at a time works); off, they change only with `customer360 standings rebuild`.
    standing_worker: bool = True
    # How long the worker gathers changes after one comes, to recompute their customers together. Its band
    # counts and value cells are written once a batch: under a steady load, 4 s batches cost the closed loop
    # a third of what 1 s batches did (BENCHMARKS.md), and a worklist follows a write within seconds.
    standing_gather_seconds: float = Field(default=4.0, ge=0)
    # How often each server process recomputes the standings that time alone changed.
    standing_sweep_seconds: float = Field(default=60.0, gt=0)

    # Limits checked before anything executes (resolvers/cost/); over a limit: LIMIT_EXCEEDED, HTTP 4xx.
    max_depth: int = Field(default=20, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=5000, ge=1)
    max_batch_operations: int = Field(default=10, ge=1)
    # Operations one WebSocket may run at once (its subscriptions included): each holds a task and a place in
    # the change feed for as long as it runs. One more is refused with LIMIT_EXCEEDED ("operations").
    max_socket_operations: int = Field(default=100, ge=1)
    # Cost: object 1, connection 2 + first (times its nodes' cost), root mutation field a fixed cost.
    max_cost: int = Field(default=10_000, ge=1)
    mutation_cost: int = Field(default=10, ge=0)
    # Per principal and minute, a token bucket refilled continuously; 0 turns the budget off.
    cost_budget_per_minute: int = Field(default=200_000, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # The request line and headers, refused with 431 while still arriving (`serve`'s HTTP protocol), and
    # the Authorization header on its own, refused with 431 before any token work.
    max_header_bytes: int = Field(default=32_768, ge=4096)
    max_authorization_bytes: int = Field(default=8192, ge=256)
    request_timeout_seconds: float = Field(default=15.0, gt=0)
    # A database that answers no ping for this long is declared unavailable (requests get UNAVAILABLE at
    # once until it answers again). Short enough to answer well within the request time limit; long enough
    # that a database busy with one heavy command (the embedded one runs a command at a time) is not lost.
    database_probe_timeout_seconds: float = Field(default=5.0, gt=0)
    # Production turns these off unless enabled explicitly.
    introspection: bool | None = None
    field_suggestions: bool | None = None
    # Trusted documents: a JSON file {"<id>": "<document>"}; when required, no other document runs.
    persisted_documents_path: Path | None = None
    trusted_documents_only: bool = False
    automatic_persisted_queries: bool = True
    # How long SIGTERM waits for in-flight requests before cancelling them.
    shutdown_grace_seconds: int = Field(default=30, gt=0)
    # A connection that sends nothing this long is closed (new or kept alive between requests), and a
    # request's line and headers must arrive within the header timeout of its first byte (else 408).
    idle_timeout_seconds: int = Field(default=5, gt=0)
    header_timeout_seconds: int = Field(default=10, gt=0)
    # Aggregates: the IANA time zones rollups are kept in (local days and months; changing them needs
    # `customer360 rollups rebuild`), and the fewest distinct customers a shown bucket may have.
    rollup_time_zones: Annotated[list[str], NoDecode] = ["UTC"]
    aggregate_min_customers: int = Field(default=5, ge=1, le=CUSTOMERS_KEPT)
    # How long a caller's own cache may reuse an aggregate fetched by GET (0: never).
    aggregate_cache_seconds: int = Field(default=60, ge=0)
    # Browser pages on these origins may call the API: CORS over HTTP, and the Origin of a WebSocket
    # handshake. Exact origins only (scheme://host[:port], comma-separated), never "*": they may send
    # credentials. None by default; same-origin pages and clients that send no Origin need no entry.
    cors_origins: Annotated[list[str], NoDecode] = []
    # OpenTelemetry tracing (the `otel` extra), configured by the standard variables: on when an OTLP endpoint
    # or a traces exporter is set. The SDK reads the others itself (service name, headers, sampler).
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
    )
    otel_exporter_otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otel_exporter_otlp_traces_endpoint"
        ),
    )
    otel_traces_exporter: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_TRACES_EXPORTER", "otel_traces_exporter")
    )
    otel_sdk_disabled: bool = Field(
        default=False, validation_alias=AliasChoices("OTEL_SDK_DISABLED", "otel_sdk_disabled")
    )

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, values: dict[str, object]) -> dict[str, object]:
        for name in ("jwt_algorithms", "rollup_time_zones", "cors_origins"):
            listed = values.get(name)
            if isinstance(listed, str):
                values[name] = [a.strip() for a in listed.split(",") if a.strip()]
        return values

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        return [exact_origin(origin) for origin in origins]

    @model_validator(mode="after")
    def _check_keys(self) -> Settings:
        if "none" in {a.lower() for a in self.jwt_algorithms}:
            raise ValueError("the 'none' JWT algorithm is never accepted")
        symmetric = any(a.startswith("HS") for a in self.jwt_algorithms)
        asymmetric = any(not a.startswith("HS") for a in self.jwt_algorithms)
        if symmetric and asymmetric:
            # Mixing both lets a public key be used as an HMAC secret (key confusion).
            raise ValueError("pin either HMAC (HS*) or public-key algorithms, not both")
        if self.is_production and symmetric and not self.jwt_secret:
            raise ValueError("production with HS* algorithms needs CUSTOMER360_JWT_SECRET")
        if self.max_authorization_bytes > self.max_header_bytes:
            raise ValueError("CUSTOMER360_MAX_AUTHORIZATION_BYTES cannot exceed CUSTOMER360_MAX_HEADER_BYTES")
        if self.trusted_documents_only and self.persisted_documents_path is None:
            raise ValueError("CUSTOMER360_TRUSTED_DOCUMENTS_ONLY needs CUSTOMER360_PERSISTED_DOCUMENTS_PATH")
        if not self.rollup_time_zones:
            raise ValueError("CUSTOMER360_ROLLUP_TIME_ZONES needs at least one time zone")
        for zone in self.rollup_time_zones:
            try:
                time_zone(zone)
            except InvalidInput as unknown:
                raise ValueError(f"CUSTOMER360_ROLLUP_TIME_ZONES: {unknown.message}") from None
        if self.otel_traces_exporter not in (None, "", "none", "otlp", "console"):
            raise ValueError(
                "OTEL_TRACES_EXPORTER: this server exports traces with otlp or console (or none)"
            )
        # In development a key pair is generated under the data directory when none is configured.
        if self.is_production and asymmetric and not (self.jwt_public_key or self.jwt_jwks_url):
            raise ValueError("RS*/ES* algorithms need CUSTOMER360_JWT_PUBLIC_KEY or CUSTOMER360_JWT_JWKS_URL")
        if self.jwt_private_key:
            self._check_private_key(self.jwt_private_key, symmetric=symmetric)
        return self

    def _check_private_key(self, private_key: str, *, symmetric: bool) -> None:
        if self.is_production:
            raise ValueError(
                "CUSTOMER360_JWT_PRIVATE_KEY is for development: a production server never mints tokens"
            )
        if symmetric:
            raise ValueError("CUSTOMER360_JWT_PRIVATE_KEY signs RS*/ES* tokens; HS* algorithms are pinned")
        try:
            check_signing_key(private_key, self.jwt_algorithms[0], self.jwt_public_key)
        except ValueError as error:
            raise ValueError(f"CUSTOMER360_JWT_PRIVATE_KEY: {error}") from None

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def tracing_enabled(self) -> bool:
        """Whether the OTEL_* variables ask for traces (the `otel` extra must then be installed)."""
        if self.otel_sdk_disabled:
            return False
        if self.otel_traces_exporter is not None:
            return self.otel_traces_exporter not in ("", "none")
        return bool(self.otel_exporter_otlp_endpoint or self.otel_exporter_otlp_traces_endpoint)

    @property
    def graphiql_enabled(self) -> bool:
        """GraphiQL is on in development and off in production unless explicitly enabled."""
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        """Introspection is on in development and off in production unless explicitly enabled."""
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def field_suggestions_enabled(self) -> bool:
        """Field suggestions ("Did you mean ...?"): on in development, off in production unless enabled."""
        return self.field_suggestions if self.field_suggestions is not None else not self.is_production

    def hmac_secret(self) -> str:
        """The HS* signing secret; in development one is created once under the data directory."""
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "dev-jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def verification_key(self) -> str:
        """The secret or public key (PEM) tokens are verified with when no JWKS URL is configured."""
        algorithm = self.jwt_algorithms[0]
        if algorithm.startswith("HS"):
            return self.hmac_secret()
        if self.jwt_public_key:
            return self.jwt_public_key
        if self.jwt_private_key:
            return public_pem(self.jwt_private_key)
        return public_pem(development_pair(self.data_dir, algorithm))

    def development_signing_key(self) -> str:
        """The secret or PEM private key development tokens are signed with; NoSigningKey if none may be."""
        algorithm = self.jwt_algorithms[0]
        if self.is_production:
            raise NoSigningKey(
                "a production server never mints tokens: use tokens from your identity provider, or sign "
                "one with `customer360 token --role ROLE --private-key FILE` (RS*/ES*) or "
                "`--secret-file FILE` (HS*)"
            )
        if algorithm.startswith("HS"):
            return self.hmac_secret()
        if self.jwt_private_key:
            return self.jwt_private_key
        if self.jwt_public_key or self.jwt_jwks_url:
            source = "CUSTOMER360_JWT_PUBLIC_KEY" if self.jwt_public_key else "CUSTOMER360_JWT_JWKS_URL"
            raise NoSigningKey(
                f"the server verifies {algorithm} tokens with {source} and holds no private key: sign one "
                "with `customer360 token --role ROLE --private-key FILE`, or set CUSTOMER360_JWT_PRIVATE_KEY"
            )
        return development_pair(self.data_dir, algorithm)

    def token_settings(self) -> TokenSettings:
        """What verifying tokens needs (algorithms, claims, key) and, in development, the key that signs."""
        try:
            signing_key: str | None = self.development_signing_key()
        except NoSigningKey:
            signing_key = None
        return TokenSettings(
            algorithms=tuple(self.jwt_algorithms),
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
            leeway_seconds=self.jwt_leeway_seconds,
            key=None if self.jwt_jwks_url else self.verification_key(),
            jwks_url=self.jwt_jwks_url,
            dev_token_ttl_seconds=self.dev_token_ttl_seconds,
            signing_key=signing_key,
            max_authorization_bytes=self.max_authorization_bytes,
        )

    def graphql_settings(self) -> GraphQLSettings:
        """What queries, limits and aggregates need."""
        return GraphQLSettings(
            max_page_size=self.max_page_size,
            max_depth=self.max_depth,
            max_aliases=self.max_aliases,
            max_tokens=self.max_tokens,
            max_cost=self.max_cost,
            mutation_cost=self.mutation_cost,
            cost_budget_per_minute=self.cost_budget_per_minute,
            introspection_enabled=self.introspection_enabled,
            field_suggestions_enabled=self.field_suggestions_enabled,
            aggregate_min_customers=self.aggregate_min_customers,
            compiled_pipelines=self.compiled_pipelines,
        )
