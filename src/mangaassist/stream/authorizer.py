"""The handshake authorizer hook of the WebSocket endpoint and the per-connection frame limits.

The defaults let everyone in without limits (the public demo); with access control on, the
gate-backed versions in ``access/streaming.py`` plug in here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from mangaassist.access.principal import Admission, Principal, Refusal

__all__ = [
    "AllowAll",
    "Authorizer",
    "FrameLimiter",
    "FrameLimits",
    "Handshake",
    "NoFrameLimit",
    "Principal",
]


@dataclass(frozen=True, slots=True)
class Handshake:
    """What a connecting client presented: headers (lower-case names), query and address."""

    headers: Mapping[str, str]
    query: Mapping[str, str]
    client_ip: str = "unknown"

    @property
    def mobile(self) -> bool:
        """``clientType=mobile`` (or ``X-Client-Type: mobile``): pings are required and the
        idle timeout is shorter, since carrier NATs drop quiet connections."""
        return "mobile" in (self.query.get("clientType", ""), self.headers.get("x-client-type", ""))


class Authorizer(Protocol):
    """Decides whether a WebSocket client may connect; a refusal fails the handshake."""

    async def __call__(self, handshake: Handshake) -> Admission | Refusal: ...


class AllowAll:
    """Lets everyone in: the default of a public demo store."""

    async def __call__(self, handshake: Handshake) -> Admission | Refusal:
        return Admission(Principal())


class FrameLimiter(Protocol):
    """Limits the actions one connection sends; a returned error code refuses the frame."""

    async def check(self, connection_id: str, action: str, session_id: str | None) -> str | None:
        """None to go ahead, else the error code (``RATE_LIMITED``, ``QUOTA_EXCEEDED``)."""
        ...


class FrameLimits(Protocol):
    """Makes the frame limiter of one admitted connection."""

    def for_connection(self, principal: Principal, handshake: Handshake) -> FrameLimiter: ...


class NoFrameLimit:
    """No limits on frames (access control off)."""

    async def check(self, connection_id: str, action: str, session_id: str | None) -> str | None:
        return None

    def for_connection(self, principal: Principal, handshake: Handshake) -> FrameLimiter:
        return self
