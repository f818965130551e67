"""Access control of WebSocket connections: the handshake and each chat message, via the gate.

Browsers cannot set headers on a WebSocket, so credentials may also come in the query:
``?apiKey=`` or ``?token=`` (``access_token=`` too). Server log lines that carry the query
(uvicorn's handshake lines) are redacted by ``observability/redaction.py``.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from mangaassist.access.gate import AccessGate, Credentials
from mangaassist.access.principal import Admission, Principal, Refusal
from mangaassist.access.tokens import bearer_token
from mangaassist.observability.access_metrics import AccessMetrics
from mangaassist.stream.authorizer import FrameLimiter, Handshake

__all__ = ["WS_PATH", "GateAuthorizer", "GateFrameLimits"]

#: The path WebSocket handshakes are judged as (anonymous routes and throttles match it).
WS_PATH = "/v1/ws"
#: The route a chat message sent over a WebSocket counts against, as if sent over HTTP.
CHAT_PATH = "/v1/chat"


def handshake_credentials(handshake: Handshake, session_id: str | None = None) -> Credentials:
    """Key or token from the headers, else from the query."""
    headers, query = handshake.headers, handshake.query
    return Credentials(
        api_key=headers.get("x-api-key") or query.get("apiKey") or None,
        bearer=bearer_token(headers.get("authorization"))
        or query.get("token")
        or query.get("access_token")
        or None,
        client_ip=handshake.client_ip,
        session_id=session_id,
    )


class GateAuthorizer:
    """Judges a handshake like a request to ``/v1/ws``, after checking its ``Origin``.

    Browsers apply no CORS to WebSockets, so a page on another site could open one with the
    visitor's cookies and address: a cross-site ``Origin`` must be in the allow-list.
    """

    def __init__(
        self, gate: AccessGate, allowed_origins: Collection[str], metrics: AccessMetrics
    ) -> None:
        self.gate = gate
        self.allowed_origins = {origin.rstrip("/") for origin in allowed_origins}
        self.metrics = metrics

    def _origin_allowed(self, handshake: Handshake) -> bool:
        origin = handshake.headers.get("origin")
        if not origin or origin.rstrip("/") in self.allowed_origins or "*" in self.allowed_origins:
            return True
        return urlsplit(origin).netloc == handshake.headers.get("host")

    async def __call__(self, handshake: Handshake) -> Admission | Refusal:
        credentials = handshake_credentials(handshake)
        verdict: Admission | Refusal
        if not self._origin_allowed(handshake):
            verdict = Refusal(403, "ORIGIN_NOT_ALLOWED")
        else:
            verdict = await self.gate.admit(WS_PATH, credentials)
        outcome = "admitted" if isinstance(verdict, Admission) else verdict.code
        self.metrics.verdicts.labels(credentials.kind, outcome).inc()
        return verdict


class GateFrameLimits:
    """Per-connection limits on every action, and chat messages counted like HTTP chat
    requests: against the key's plan (or the visitor's IP and session) and the chat throttle."""

    def __init__(self, gate: AccessGate, per_connection: str) -> None:
        self.gate = gate
        self.items: list[RateLimitItem] = parse_many(per_connection)
        self._moving = MovingWindowRateLimiter(MemoryStorage())

    def for_connection(self, principal: Principal, handshake: Handshake) -> FrameLimiter:
        return _ConnectionFrames(self, principal, handshake)

    async def connection_allows(self, connection_id: str) -> bool:
        """Count one action of the connection; False once it is over any of its limits."""
        for item in self.items:
            if not await self._moving.hit(item, "connection", connection_id):
                return False
        return True


class _ConnectionFrames:
    def __init__(self, limits: GateFrameLimits, principal: Principal, handshake: Handshake):
        self._limits = limits
        self._principal = principal
        self._handshake = handshake

    async def check(self, connection_id: str, action: str, session_id: str | None) -> str | None:
        if not await self._limits.connection_allows(connection_id):
            return "RATE_LIMITED"
        if action != "sendMessage":
            return None
        credentials = Credentials(client_ip=self._handshake.client_ip, session_id=session_id)
        verdict = await self._limits.gate.meter(self._principal, CHAT_PATH, credentials)
        return None if isinstance(verdict, Admission) else verdict.code
