"""Rate limits and quotas on Redis: exact counts, shared by every process using that Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime

import pytest

from mangaassist.access.limiter import LimitCode, RateLimiter
from mangaassist.access.plans import RouteThrottle, UsagePlan
from tests.conftest import REDIS_URL, redis_problem, require_service

LimiterFactory = Callable[..., RateLimiter]


@pytest.fixture
def key_prefix() -> Iterator[str]:
    """A namespace of its own for each test, deleted afterwards."""
    require_service("Redis", redis_problem)
    import redis

    prefix = f"mangaassist-test-limits-{uuid.uuid4().hex[:12]}"
    yield prefix
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)


@pytest.fixture
async def make_limiter(key_prefix: str) -> AsyncIterator[LimiterFactory]:
    """Builds limiters on the test's namespace: each one stands for a separate API process."""
    made: list[RateLimiter] = []

    def make(**kwargs: object) -> RateLimiter:
        kwargs.setdefault("route_throttles", {})
        limiter = RateLimiter(REDIS_URL, key_prefix=key_prefix, **kwargs)  # type: ignore[arg-type]
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.close()


async def test_exactly_n_pass_and_n_plus_one_is_refused(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    plan = UsagePlan("t", rate_per_s=10, burst=20)
    decisions = [await limiter.check("key-a", "/v1/x", plan) for _ in range(21)]
    assert [d.allowed for d in decisions] == [True] * 20 + [False]
    assert decisions[19].remaining == 0
    assert decisions[20].code is LimitCode.RATE_LIMITED
    assert decisions[20].retry_after_s is not None
    assert 1 <= decisions[20].retry_after_s <= 2


async def test_two_processes_share_one_count(make_limiter: LimiterFactory) -> None:
    # Given two limiters (two API processes) on the same Redis
    first, second = make_limiter(), make_limiter()
    plan = UsagePlan("t", rate_per_s=5, burst=10, quota=1_000)
    # When they alternate requests for one key
    results = []
    for i in range(11):
        limiter = first if i % 2 == 0 else second
        results.append(await limiter.check("key-a", "/v1/x", plan))
    # Then the burst of 10 holds across both, and the quota counts both
    assert [d.allowed for d in results] == [True] * 10 + [False]
    assert results[9].remaining == 1_000 - 10


async def test_concurrent_requests_from_two_processes_never_overshoot(
    make_limiter: LimiterFactory,
) -> None:
    first, second = make_limiter(), make_limiter()
    plan = UsagePlan("t", rate_per_s=100, burst=100, quota=25)
    checks = [(first if i % 2 else second).check("key-a", "/v1/x", plan) for i in range(60)]
    decisions = await asyncio.gather(*checks)
    assert sum(d.allowed for d in decisions) == 25
    refused = [d for d in decisions if not d.allowed]
    assert {d.code for d in refused} == {LimitCode.QUOTA_EXCEEDED}


async def test_route_throttle_holds_across_processes(make_limiter: LimiterFactory) -> None:
    throttle = {"/v1/chat": RouteThrottle("/v1/chat", rate_per_s=4, burst=4)}
    first = make_limiter(route_throttles=throttle)
    second = make_limiter(route_throttles=throttle)
    plan = UsagePlan("t", rate_per_s=100, burst=100)
    allowed = [
        (await (first if i % 2 else second).check(f"key-{i}", "/v1/chat", plan)).allowed
        for i in range(5)
    ]
    assert allowed == [True, True, True, True, False]


async def test_quota_resets_at_the_period_boundary(make_limiter: LimiterFactory) -> None:
    now = datetime(2025, 1, 31, 23, 59, 58, tzinfo=UTC).timestamp()
    clock = [now]
    limiter = make_limiter(clock=lambda: clock[0])
    plan = UsagePlan("t", rate_per_s=100, burst=100, quota=3, quota_period="month")
    decisions = [await limiter.check("key-a", "/v1/x", plan) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[3].code is LimitCode.QUOTA_EXCEEDED
    assert decisions[3].reset_epoch == datetime(2025, 2, 1, tzinfo=UTC).timestamp()
    assert decisions[3].retry_after_s == 2

    clock[0] = datetime(2025, 2, 1, tzinfo=UTC).timestamp()
    fresh = await limiter.check("key-a", "/v1/x", plan)
    assert fresh.allowed
    assert fresh.remaining == 2


async def test_the_burst_window_refills(make_limiter: LimiterFactory) -> None:
    limiter = make_limiter()
    plan = UsagePlan("t", rate_per_s=3, burst=3)
    for _ in range(3):
        assert (await limiter.check("key-a", "/v1/x", plan)).allowed
    denied = await limiter.check("key-a", "/v1/x", plan)
    assert not denied.allowed
    assert denied.retry_after_s == 1
    await asyncio.sleep(1.1)
    assert (await limiter.check("key-a", "/v1/x", plan)).allowed
