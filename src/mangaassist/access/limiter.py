"""The rate limiter: usage plans and route throttles enforced on ``limits`` storage.

``memory://`` keeps counts in the process (one API process, tests); ``redis://`` keeps them in
Redis, so every API process shares one count per key and route. Redis is reached through
``limits``' ``redispy`` bridge over the project's ``redis`` client, so no extra driver is needed.

Order of checks, so a refused request costs as little as possible: the key's rate first (a
client over its rate consumes neither route capacity nor quota), then the route throttle, then
the quota (a request refused for rate never counts against the day).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from mangaassist.access.plans import (
    ROUTE_THROTTLES,
    STANDARD_PLAN,
    RouteThrottle,
    UsagePlan,
    quota_window,
)

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

__all__ = ["QUOTA_GRACE_S", "Decision", "LimitCode", "RateLimiter", "headers"]

#: Quota counters outlive their period by this much, so processes whose clocks disagree by a
#: few seconds still count into the same key before it expires.
QUOTA_GRACE_S = 300
#: Namespace of rate-limit keys in Redis (``limits`` adds its own suffixes).
DEFAULT_KEY_PREFIX = "mangaassist:limits"


class LimitCode(StrEnum):
    """Why a request was refused; the API puts it in the 429 body's error code."""

    #: Over the key's rate or burst, or over a route throttle; retry in seconds.
    RATE_LIMITED = "RATE_LIMITED"
    #: The key's quota for the day or month is used up; retry after the period resets.
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"


@dataclass(frozen=True)
class Decision:
    """The verdict on one request, with the numbers the rate-limit headers report.

    When allowed, ``limit``/``remaining``/``reset_epoch`` describe the quota (what a partner
    budgets against), or the rate window for plans without a quota; when refused, the limit
    that refused it.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int
    retry_after_s: int | None = None
    code: LimitCode | None = None


def headers(decision: Decision) -> dict[str, str]:
    """``X-RateLimit-Limit/-Remaining/-Reset`` (epoch seconds), plus ``Retry-After`` if refused."""
    result = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_epoch),
    }
    if not decision.allowed and decision.retry_after_s is not None:
        result["Retry-After"] = str(decision.retry_after_s)
    return result


def _redis_pool(url: str, timeout_s: float) -> ConnectionPool:
    try:
        from redis.asyncio import ConnectionPool
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Redis rate limits need the redis package: pip install 'redis>=5'"
        ) from exc
    pool: ConnectionPool = ConnectionPool.from_url(
        url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
    )
    return pool


class RateLimiter:
    """Checks requests against usage plans and route throttles on shared storage.

    Args:
        storage_url: ``memory://`` or ``redis://host:port/db`` (``rediss://`` for TLS).
        default_plan: the plan used when :meth:`check` is given none.
        route_throttles: throttles by route path, shared by all callers of that route.
        key_prefix: namespace of the keys in Redis (tests use a unique one each).
        clock: epoch seconds; picks the calendar period of quotas. The rate windows run on the
            wall clock inside ``limits``.
        timeout_s: Redis connect and read timeout; a limiter must not eat the request deadline.
    """

    def __init__(
        self,
        storage_url: str = "memory://",
        *,
        default_plan: UsagePlan = STANDARD_PLAN,
        route_throttles: Mapping[str, RouteThrottle] = ROUTE_THROTTLES,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        clock: Callable[[], float] = time.time,
        timeout_s: float = 0.5,
    ) -> None:
        self.default_plan = default_plan
        self.route_throttles = dict(route_throttles)
        self._clock = clock
        self._pool: ConnectionPool | None = None
        self.storage: Storage = self._storage(storage_url, key_prefix, timeout_s)
        self._moving = MovingWindowRateLimiter(self.storage)

    def _storage(self, url: str, key_prefix: str, timeout_s: float) -> Storage:
        scheme = url.partition("://")[0]
        if scheme == "memory":
            return MemoryStorage(wrap_exceptions=True)
        if scheme in ("redis", "rediss"):
            from limits.aio.storage import RedisStorage

            self._pool = _redis_pool(url, timeout_s)
            options: dict[str, Any] = {"connection_pool": self._pool}
            return RedisStorage(
                f"async+{url}",
                wrap_exceptions=True,
                implementation="redispy",
                key_prefix=key_prefix,
                **options,
            )
        raise ValueError(f"unsupported rate-limit storage {scheme!r}: use memory:// or redis://")

    async def check(
        self, key_id: str, route: str | None = None, plan: UsagePlan | None = None
    ) -> Decision:
        """Count one request by ``key_id`` to ``route`` and say whether it may proceed.

        ``route`` names a route throttle (None: no throttle applies, e.g. a second identity
        counted for the same request).

        Raises ``limits.errors.StorageError`` when the storage cannot be reached; whether to
        fail open or closed is the caller's policy.
        """
        plan = plan or self.default_plan
        rate = RateLimitItemPerSecond(plan.burst, plan.window_s)
        if not await self._moving.hit(rate, "key", key_id):
            return await self._rate_denied(rate, "key", key_id)
        throttle = self.route_throttles.get(route) if route is not None else None
        if throttle is not None:
            route_rate = RateLimitItemPerSecond(throttle.burst, throttle.window_s)
            if not await self._moving.hit(route_rate, "route", throttle.route):
                return await self._rate_denied(route_rate, "route", throttle.route)
        if plan.quota is None:
            stats = await self._moving.get_window_stats(rate, "key", key_id)
            return Decision(True, rate.amount, stats.remaining, math.ceil(stats.reset_time))
        now = self._clock()
        window = quota_window(now, plan.quota_period)
        expiry_s = math.ceil(window.reset_epoch - now) + QUOTA_GRACE_S
        used = await self.storage.incr(f"quota/{key_id}/{window.key}", expiry_s)
        if used > plan.quota:
            retry = max(1, math.ceil(window.reset_epoch - now))
            return Decision(
                False, plan.quota, 0, window.reset_epoch, retry, LimitCode.QUOTA_EXCEEDED
            )
        return Decision(True, plan.quota, plan.quota - used, window.reset_epoch)

    async def _rate_denied(self, item: RateLimitItem, *identifiers: str) -> Decision:
        stats = await self._moving.get_window_stats(item, *identifiers)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        return Decision(
            False, item.amount, 0, math.ceil(stats.reset_time), retry, LimitCode.RATE_LIMITED
        )

    async def close(self) -> None:
        """Release Redis connections (nothing to do in memory)."""
        if self._pool is not None:
            await self._pool.disconnect()
            self._pool = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
