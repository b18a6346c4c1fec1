"""The authenticated caller of one request."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import Unauthenticated


class Role(StrEnum):
    """The one role a token carries."""

    FRONTLINE = "frontline"
    MANAGER = "manager"
    BOARD = "board"
    CUSTOMER = "customer"
    INTEGRATION = "integration"
    BI = "bi"  # BI tools and dashboards: company-wide aggregates, like the board

    @property
    def needs_regions(self) -> bool:
        return self in (Role.FRONTLINE, Role.MANAGER)


@dataclass(frozen=True, slots=True)
class Principal:
    """The subject, its role and, for regional roles, the regions it works in."""

    subject: str
    role: Role
    regions: tuple[str, ...] = ()
    # When its token stops being accepted (seconds since the epoch, the verifier's leeway included): a
    # WebSocket opened with it is closed then. None: no expiry known (a principal not made from a token).
    accepted_until: float | None = field(default=None, compare=False)

    @classmethod
    def from_claims(cls, claims: dict[str, object]) -> Principal:
        """A principal from verified claims; claims that do not fit the role are rejected."""
        subject, role_name, regions = claims.get("sub"), claims.get("role"), claims.get("regions", [])
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("token has no subject")
        if not isinstance(role_name, str) or role_name not in Role.__members__.values():
            raise Unauthenticated("token has no known role")
        role = Role(role_name)
        if not isinstance(regions, list) or not all(isinstance(r, str) and r for r in regions):
            raise Unauthenticated("token regions must be a list of region names")
        if role.needs_regions and not regions:
            raise Unauthenticated(f"a {role.value} token must name its regions")
        if not role.needs_regions and regions:
            raise Unauthenticated(f"a {role.value} token carries no regions")
        return cls(subject, role, tuple(dict.fromkeys(regions)))
