"""The access gate: who is calling (API key, JWT or anonymous) and whether limits let them in.

The HTTP middleware and the WebSocket authorizer both ask the gate, so a handshake and a request
are judged alike. Nothing here knows about ASGI: it takes the credentials a transport found and
answers an :class:`Admission` or a :class:`Refusal` with the status, code and headers to send.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from limits.errors import StorageError

from mangaassist.access.keyring import KeyRing, verified_record
from mangaassist.access.limiter import Decision, RateLimiter, headers
from mangaassist.access.plans import UsagePlan
from mangaassist.access.principal import Admission, Principal, PrincipalKind, Refusal
from mangaassist.access.tokens import TokenError, TokenVerifier

__all__ = ["AccessGate", "Credentials", "GatePolicy", "client_bucket", "under"]

log = structlog.get_logger("mangaassist.access")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mangaassist"'}


def under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it, segment-wise (``/v1/chat`` covers
    ``/v1/chat/stream`` but not ``/v1/chatter``)."""
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def client_bucket(ip: str) -> str:
    """What per-IP limits count: the address, or its /64 for IPv6 (one subscriber's network,
    so rotating through a prefix does not multiply the allowance)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _digest(value: str) -> str:
    """A bounded, log-safe stand-in for caller-chosen strings used as counter keys."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Credentials:
    """What a request or handshake presented; any of it may be missing."""

    api_key: str | None = None
    bearer: str | None = None
    client_ip: str = "unknown"
    session_id: str | None = None

    @property
    def kind(self) -> str:
        """What was presented, as metrics label it: ``api_key``, ``token`` or ``anonymous``."""
        if self.api_key:
            return "api_key"
        return "token" if self.bearer else "anonymous"


@dataclass(frozen=True)
class GatePolicy:
    """Which plans exist, which routes anonymous visitors may use, and their limits."""

    plans: Mapping[str, UsagePlan]
    token_plan: str
    anonymous_routes: tuple[str, ...]
    anonymous_ip_plan: UsagePlan
    anonymous_session_plan: UsagePlan
    fail_open: bool = True

    def allows_anonymous(self, path: str) -> bool:
        """Whether the chat page may call ``path`` without credentials."""
        return any(under(path, prefix) for prefix in self.anonymous_routes)


class AccessGate:
    """Authenticates callers and counts their requests against plans and throttles."""

    def __init__(
        self,
        keys: KeyRing,
        limiter: RateLimiter,
        policy: GatePolicy,
        *,
        tokens: TokenVerifier | None = None,
        pepper: bytes | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_storage_error: Callable[[], None] = lambda: None,
    ) -> None:
        self.keys = keys
        self.limiter = limiter
        self.policy = policy
        self.tokens = tokens
        self._pepper = pepper
        self._clock = clock
        self._on_storage_error = on_storage_error

    async def admit(self, path: str, credentials: Credentials) -> Admission | Refusal:
        """Identify the caller, then count the request; the first refusal wins."""
        principal = await self.identify(path, credentials)
        if isinstance(principal, Refusal):
            return principal
        return await self.meter(principal, path, credentials)

    async def identify(self, path: str, credentials: Credentials) -> Principal | Refusal:
        """The caller behind ``credentials``; an API key wins over a bearer token."""
        if credentials.api_key:
            return await self._key_principal(credentials.api_key)
        if credentials.bearer:
            return await self._token_principal(credentials.bearer)
        if self.policy.allows_anonymous(path):
            return Principal()
        return Refusal(401, "UNAUTHENTICATED", _CHALLENGE)

    async def _key_principal(self, api_key: str) -> Principal | Refusal:
        record = await verified_record(self.keys, api_key, pepper=self._pepper)
        if record is None:
            return Refusal(401, "API_KEY_INVALID", _CHALLENGE)
        prefix = record.prefix
        if not record.active:
            return Refusal(403, "API_KEY_REVOKED")  # only a holder of the secret learns this
        if record.plan not in self.policy.plans:
            return Refusal(403, "API_KEY_PLAN_UNKNOWN", params={"plan": record.plan})
        await self.keys.mark_used(prefix, self._clock())
        return Principal(
            subject=f"key:{prefix}",
            claims={"keyPrefix": prefix, "keyName": record.name, "plan": record.plan},
            kind=PrincipalKind.API_KEY,
            plan=record.plan,
        )

    async def _token_principal(self, token: str) -> Principal | Refusal:
        challenge = {"WWW-Authenticate": 'Bearer realm="mangaassist", error="invalid_token"'}
        if self.tokens is None:
            return Refusal(401, "TOKEN_INVALID", challenge, {"reason": "tokens are not accepted"})
        try:
            claims = await self.tokens.verify(token)
        except TokenError as exc:
            return Refusal(401, exc.code, challenge, {"reason": exc.reason})
        subject = str(claims.get("sub") or claims.get("client_id") or "")[:200]
        return Principal(
            subject=subject, claims=claims, kind=PrincipalKind.TOKEN, plan=self.policy.token_plan
        )

    def throttle_route(self, path: str) -> str | None:
        """The limiter's route throttle ``path`` counts against: the longest matching prefix."""
        matches = [prefix for prefix in self.limiter.route_throttles if under(path, prefix)]
        return max(matches, key=len, default=None)

    async def meter(
        self, principal: Principal, path: str, credentials: Credentials
    ) -> Admission | Refusal:
        """Count one request by ``principal`` to ``path`` against its plan and the throttles."""
        route = self.throttle_route(path)
        try:
            if principal.kind is PrincipalKind.ANONYMOUS:
                decision = await self._meter_anonymous(route, credentials)
            else:
                plan = self.policy.plans[principal.plan or self.policy.token_plan]
                issuer = str(principal.claims.get("iss", ""))
                key_id = (
                    principal.subject
                    if principal.kind is PrincipalKind.API_KEY
                    else f"token:{_digest(issuer + '|' + principal.subject)}"
                )
                decision = await self.limiter.check(key_id, route, plan)
        except StorageError:
            self._on_storage_error()
            log.warning("rate_limit_storage_unavailable", fail_open=self.policy.fail_open)
            if self.policy.fail_open:
                return Admission(principal)
            return Refusal(503, "ACCESS_UNAVAILABLE", {"Retry-After": "1"})
        if not decision.allowed:
            return Refusal(
                429,
                str(decision.code),
                headers(decision),
                {"seconds": decision.retry_after_s, "limit": decision.limit},
            )
        return Admission(principal, decision)

    async def _meter_anonymous(self, route: str | None, credentials: Credentials) -> Decision:
        policy = self.policy
        by_ip = await self.limiter.check(
            f"ip:{client_bucket(credentials.client_ip)}", route, policy.anonymous_ip_plan
        )
        if not by_ip.allowed or not credentials.session_id:
            return by_ip
        by_session = await self.limiter.check(
            f"session:{_digest(credentials.session_id)}", None, policy.anonymous_session_plan
        )
        if not by_session.allowed:
            return by_session
        return min(by_ip, by_session, key=lambda decision: decision.remaining)
