"""Usage plans and route throttles, and how they map onto the ``limits`` library.

A plan says "rate r requests/s with bursts up to b" (token-bucket words, as API Gateway uses
them) and "quota q per day or month". ``limits`` has no token bucket, so a rate becomes a
*moving window of b requests per ceil(b / r) seconds*:

- a client at rest may send ``b`` requests at once (the burst);
- over any window the average is at most ``b / ceil(b / r) <= r`` per second, and over any span
  ``t`` at most ``b * ceil(t / window)`` requests pass, never more than a token bucket would;
- for the design documents' plans (200 over 2 s, 1,000 over 2 s) the window is exact, and a
  client sending steadily at ``r`` is never refused.

A moving window counts every request individually (exact, no edge doubling as in fixed windows),
which is what makes "N pass, N+1 is refused" hold in process and across processes on Redis.

Quotas are calendar periods in UTC: a daily quota resets at midnight UTC, a monthly one on the
first of the month. ``limits`` starts a fixed window at its first hit, so the period goes into
the counter's key instead (:func:`quota_window`), and the counter expires after the period ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

__all__ = [
    "CHAT_THROTTLE",
    "PLANS",
    "ROUTE_THROTTLES",
    "STANDARD_PLAN",
    "QuotaPeriod",
    "QuotaWindow",
    "RouteThrottle",
    "UsagePlan",
    "quota_window",
    "window_seconds",
]

QuotaPeriod = Literal["day", "month"]


def window_seconds(rate_per_s: int, burst: int) -> int:
    """The moving-window length giving ``burst`` at once and at most ``rate_per_s`` on average."""
    if rate_per_s < 1:
        raise ValueError(f"rate_per_s must be at least 1, got {rate_per_s}")
    if burst < rate_per_s:
        raise ValueError(f"burst ({burst}) must be at least the rate ({rate_per_s}/s)")
    return math.ceil(burst / rate_per_s)


@dataclass(frozen=True)
class UsagePlan:
    """Per-key limits: a rate with a burst, and an optional quota per calendar period."""

    name: str
    rate_per_s: int
    burst: int
    quota: int | None = None
    quota_period: QuotaPeriod = "day"

    def __post_init__(self) -> None:
        window_seconds(self.rate_per_s, self.burst)  # validates rate and burst
        if self.quota is not None and self.quota < 1:
            raise ValueError(f"quota must be positive or None, got {self.quota}")
        if self.quota_period not in ("day", "month"):
            raise ValueError(f"quota_period must be 'day' or 'month', got {self.quota_period!r}")

    @property
    def window_s(self) -> int:
        """Length of the moving window that enforces rate and burst."""
        return window_seconds(self.rate_per_s, self.burst)


@dataclass(frozen=True)
class RouteThrottle:
    """A limit on one route for all callers together (API Gateway's method throttling)."""

    route: str
    rate_per_s: int
    burst: int

    def __post_init__(self) -> None:
        window_seconds(self.rate_per_s, self.burst)

    @property
    def window_s(self) -> int:
        """Length of the moving window that enforces rate and burst."""
        return window_seconds(self.rate_per_s, self.burst)


#: The design documents' standard usage plan: 100 req/s, burst 200, 10,000 requests a day.
STANDARD_PLAN = UsagePlan("standard", rate_per_s=100, burst=200, quota=10_000, quota_period="day")
#: Plans by the name stored on each key.
PLANS: dict[str, UsagePlan] = {STANDARD_PLAN.name: STANDARD_PLAN}
#: The design documents' chat throttle: 500 req/s, burst 1,000, across all callers.
CHAT_THROTTLE = RouteThrottle("/v1/chat", rate_per_s=500, burst=1_000)
#: Route throttles by path.
ROUTE_THROTTLES: dict[str, RouteThrottle] = {CHAT_THROTTLE.route: CHAT_THROTTLE}


@dataclass(frozen=True)
class QuotaWindow:
    """The calendar period containing a moment: its counter key and when it resets."""

    key: str
    reset_epoch: int


def quota_window(now_epoch: float, period: QuotaPeriod) -> QuotaWindow:
    """The UTC day or month containing ``now_epoch``; ``reset_epoch`` is the next period's start."""
    now = datetime.fromtimestamp(now_epoch, UTC)
    if period == "day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        reset = start.timestamp() + 86_400
        return QuotaWindow(key=f"day:{start:%Y-%m-%d}", reset_epoch=int(reset))
    if period == "month":
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = (
            start.replace(year=start.year + 1, month=1)
            if start.month == 12
            else start.replace(month=start.month + 1)
        )
        return QuotaWindow(key=f"month:{start:%Y-%m}", reset_epoch=int(following.timestamp()))
    raise ValueError(f"unknown quota period {period!r}")
