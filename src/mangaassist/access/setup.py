"""Access control from settings: off (everyone in, no limits) or the gate with its parts."""

from __future__ import annotations

from dataclasses import dataclass

from mangaassist.access.config import plans_from_config, throttles_from_config
from mangaassist.access.gate import AccessGate, GatePolicy
from mangaassist.access.keyring import KeyRing
from mangaassist.access.limiter import RateLimiter
from mangaassist.access.streaming import GateAuthorizer, GateFrameLimits
from mangaassist.access.tokens import TokenConfig, TokenVerifier
from mangaassist.observability.access_metrics import AccessMetrics
from mangaassist.settings import Settings
from mangaassist.stream.authorizer import AllowAll, Authorizer, FrameLimits, NoFrameLimit

__all__ = ["AccessSetup", "build_access", "limits_storage_url"]

_REDIS_SCHEMES = ("redis://", "rediss://")


def limits_storage_url(settings: Settings) -> str:
    """The setting, else the cache's Redis (so limits hold across processes), else memory."""
    if settings.access_storage_url:
        return settings.access_storage_url
    if settings.cache_url.startswith(_REDIS_SCHEMES):
        return settings.cache_url
    return "memory://"


@dataclass
class AccessSetup:
    """What the app and the WebSocket route use; ``gate`` is None when access control is off."""

    gate: AccessGate | None
    authorizer: Authorizer
    frame_limits: FrameLimits
    metrics: AccessMetrics

    async def open(self) -> None:
        """Load JWKS keys (a file now, a URL's on first use) before the first request."""
        if self.gate is not None and self.gate.tokens is not None:
            await self.gate.tokens.open()

    async def close(self) -> None:
        """Release the JWKS client and Redis connections."""
        if self.gate is not None:
            if self.gate.tokens is not None:
                await self.gate.tokens.close()
            await self.gate.limiter.close()


def build_access(
    settings: Settings, keys: KeyRing, pepper: bytes | None, metrics: AccessMetrics
) -> AccessSetup:
    """Everything access control needs, or allow-all parts when it is off."""
    if not settings.access_control:
        return AccessSetup(None, AllowAll(), NoFrameLimit(), metrics)
    plans = plans_from_config(settings.access_plans)
    throttles = throttles_from_config(settings.access_route_throttles)
    limiter = RateLimiter(
        limits_storage_url(settings),
        default_plan=plans[settings.access_token_plan],
        route_throttles=throttles,
        key_prefix=f"{settings.cache_namespace}:limits",
    )
    token_config = TokenConfig.from_settings(settings)
    policy = GatePolicy(
        plans=plans,
        token_plan=settings.access_token_plan,
        anonymous_routes=tuple(settings.access_anonymous_routes),
        anonymous_ip_plan=settings.anonymous_ip_plan.plan("anonymous-ip"),
        anonymous_session_plan=settings.anonymous_session_plan.plan("anonymous-session"),
        fail_open=settings.access_fail_open,
    )
    gate = AccessGate(
        keys,
        limiter,
        policy,
        tokens=TokenVerifier(token_config) if token_config.enabled else None,
        pepper=pepper,
        on_storage_error=metrics.storage_errors.inc,
    )
    return AccessSetup(
        gate,
        GateAuthorizer(gate, settings.cors_allow_origins, metrics),
        GateFrameLimits(gate, settings.ws_message_limit),
        metrics,
    )
