"""Usage plans, the rate/burst mapping, calendar quotas and the in-process limiter."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest

from mangaassist.access.limiter import Decision, LimitCode, RateLimiter, headers
from mangaassist.access.plans import (
    CHAT_THROTTLE,
    STANDARD_PLAN,
    RouteThrottle,
    UsagePlan,
    quota_window,
    window_seconds,
)


def epoch(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> float:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()


class FakeClock:
    """Epoch seconds that a test moves by hand (quota periods only)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_design_document_plans() -> None:
    assert (STANDARD_PLAN.rate_per_s, STANDARD_PLAN.burst) == (100, 200)
    assert (STANDARD_PLAN.quota, STANDARD_PLAN.quota_period) == (10_000, "day")
    assert (CHAT_THROTTLE.route, CHAT_THROTTLE.rate_per_s, CHAT_THROTTLE.burst) == (
        "/v1/chat",
        500,
        1_000,
    )
    # burst b over a window of b/r seconds: the sustained rate is exactly r
    assert STANDARD_PLAN.window_s == 2
    assert CHAT_THROTTLE.window_s == 2


@pytest.mark.parametrize(
    ("rate", "burst", "window"), [(100, 200, 2), (5, 5, 1), (3, 10, 4), (1, 1, 1)]
)
def test_window_never_allows_more_than_the_rate_on_average(
    rate: int, burst: int, window: int
) -> None:
    assert window_seconds(rate, burst) == window
    assert burst / window <= rate


@pytest.mark.parametrize(("rate", "burst"), [(0, 10), (10, 5), (-1, 1)])
def test_invalid_rates_are_refused(rate: int, burst: int) -> None:
    with pytest.raises(ValueError, match="must be at least"):
        UsagePlan("bad", rate_per_s=rate, burst=burst)
    with pytest.raises(ValueError, match="must be at least"):
        RouteThrottle("/x", rate_per_s=rate, burst=burst)


def test_invalid_quota_is_refused() -> None:
    with pytest.raises(ValueError, match="quota"):
        UsagePlan("bad", 1, 1, quota=0)


def test_daily_quota_resets_at_utc_midnight() -> None:
    late = quota_window(epoch(2025, 3, 9, 23, 59, 59), "day")
    assert late.key == "day:2025-03-09"
    assert late.reset_epoch == epoch(2025, 3, 10)
    after = quota_window(epoch(2025, 3, 10), "day")
    assert after.key == "day:2025-03-10"
    assert after.reset_epoch == epoch(2025, 3, 11)


@pytest.mark.parametrize(
    ("now", "key", "reset"),
    [
        ((2025, 1, 31, 23, 59, 59), "month:2025-01", (2025, 2, 1)),
        ((2024, 2, 29, 12), "month:2024-02", (2024, 3, 1)),
        ((2025, 12, 15), "month:2025-12", (2026, 1, 1)),
        ((2026, 1, 1), "month:2026-01", (2026, 2, 1)),
    ],
)
def test_monthly_quota_resets_on_the_first(
    now: tuple[int, ...], key: str, reset: tuple[int, ...]
) -> None:
    window = quota_window(epoch(*now), "month")
    assert window.key == key
    assert window.reset_epoch == epoch(*reset)


def test_headers_report_limits_and_retry_after_only_when_refused() -> None:
    allowed = Decision(True, 10, 7, 1_700_000_000)
    assert headers(allowed) == {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "7",
        "X-RateLimit-Reset": "1700000000",
    }
    refused = Decision(False, 10, 0, 1_700_000_002, 2, LimitCode.RATE_LIMITED)
    assert headers(refused)["Retry-After"] == "2"


async def test_exactly_n_requests_pass_within_the_burst() -> None:
    plan = UsagePlan("t", rate_per_s=5, burst=10)  # 10 per 2 s window, no quota
    async with RateLimiter("memory://", route_throttles={}) as limiter:
        decisions = [await limiter.check("key-a", "/v1/x", plan) for _ in range(11)]
    assert all(d.allowed for d in decisions[:10])
    assert [d.remaining for d in decisions[:10]] == list(range(9, -1, -1))
    denied = decisions[10]
    assert not denied.allowed
    assert denied.code is LimitCode.RATE_LIMITED
    assert denied.limit == 10
    assert denied.remaining == 0
    assert denied.retry_after_s is not None
    assert 1 <= denied.retry_after_s <= 2


async def test_keys_are_counted_separately() -> None:
    plan = UsagePlan("t", rate_per_s=2, burst=2)
    async with RateLimiter("memory://", route_throttles={}) as limiter:
        for _ in range(2):
            assert (await limiter.check("key-a", "/v1/x", plan)).allowed
        assert not (await limiter.check("key-a", "/v1/x", plan)).allowed
        assert (await limiter.check("key-b", "/v1/x", plan)).allowed


async def test_burst_refills_after_the_window() -> None:
    # Given a burst of 3 per 1 s window, used up
    plan = UsagePlan("t", rate_per_s=3, burst=3)
    async with RateLimiter("memory://", route_throttles={}) as limiter:
        for _ in range(3):
            assert (await limiter.check("key-a", "/v1/x", plan)).allowed
        denied = await limiter.check("key-a", "/v1/x", plan)
        assert not denied.allowed
        # When the client waits as long as Retry-After says
        assert denied.retry_after_s is not None
        await asyncio.sleep(max(0.0, denied.reset_epoch - time.time()) + 0.05)
        # Then a full burst is available again
        for _ in range(3):
            assert (await limiter.check("key-a", "/v1/x", plan)).allowed


async def test_route_throttle_is_shared_by_all_keys() -> None:
    plan = UsagePlan("t", rate_per_s=100, burst=100)
    throttle = RouteThrottle("/v1/chat", rate_per_s=3, burst=3)
    async with RateLimiter("memory://", route_throttles={"/v1/chat": throttle}) as limiter:
        results = [(await limiter.check(f"key-{i}", "/v1/chat", plan)).allowed for i in range(4)]
        assert results == [True, True, True, False]
        assert (await limiter.check("key-9", "/v1/other", plan)).allowed


async def test_quota_exhaustion_says_so_and_resets_at_midnight() -> None:
    # Given a quota of 5 a day and a clock one second before midnight UTC
    clock = FakeClock(epoch(2025, 6, 1, 23, 59, 59))
    plan = UsagePlan("t", rate_per_s=100, burst=100, quota=5)
    async with RateLimiter("memory://", route_throttles={}, clock=clock) as limiter:
        decisions = [await limiter.check("key-a", "/v1/x", plan) for _ in range(6)]
        # Then 5 pass and the 6th is refused for quota, retrying after midnight
        assert [d.allowed for d in decisions] == [True] * 5 + [False]
        assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
        refused = decisions[5]
        assert refused.code is LimitCode.QUOTA_EXCEEDED
        assert refused.reset_epoch == epoch(2025, 6, 2)
        assert refused.retry_after_s == 1
        assert headers(refused)["Retry-After"] == "1"
        # When midnight passes
        clock.now = epoch(2025, 6, 2)
        # Then the quota is whole again
        fresh = await limiter.check("key-a", "/v1/x", plan)
        assert fresh.allowed
        assert fresh.remaining == 4
        assert fresh.reset_epoch == epoch(2025, 6, 3)


async def test_rate_refusals_do_not_spend_quota() -> None:
    plan = UsagePlan("t", rate_per_s=2, burst=2, quota=10)
    async with RateLimiter("memory://", route_throttles={}) as limiter:
        for _ in range(5):
            await limiter.check("key-a", "/v1/x", plan)
        unlimited = UsagePlan("t", rate_per_s=100, burst=100, quota=10)
        after = await limiter.check("key-a", "/v1/x", unlimited)
    assert after.allowed
    assert after.remaining == 7


def test_unsupported_storage_is_refused() -> None:
    with pytest.raises(ValueError, match="memory:// or redis://"):
        RateLimiter("memcached://localhost")
