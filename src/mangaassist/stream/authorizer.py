"""The handshake authorizer hook of the streaming endpoints (allow-all until access control)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["AllowAll", "Authorizer", "FrameLimiter", "NoFrameLimit", "Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is connecting, as far as the authorizer could tell."""

    subject: str = "anonymous"
    claims: Mapping[str, object] = field(default_factory=dict)


class Authorizer(Protocol):
    """Decides whether a WebSocket or SSE client may connect; None refuses (HTTP 403)."""

    async def __call__(
        self, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> Principal | None: ...


class AllowAll:
    """Lets everyone in: the default of a public demo store."""

    async def __call__(
        self, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> Principal | None:
        return Principal()


class FrameLimiter(Protocol):
    """Per-connection rate limit of client actions; False answers ``RATE_LIMITED``."""

    def allow(self, connection_id: str, action: str) -> bool: ...


class NoFrameLimit:
    """No per-connection limit (the access-control issue plugs real limits in)."""

    def allow(self, connection_id: str, action: str) -> bool:
        return True
