"""The response cache port's behaviour, identical in memory and on Redis.

Every test taking ``cache`` runs on both backends; Redis tests use a private namespace each,
cleared afterwards. Without Redis they skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import socket
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from mangaassist.cache.base import CacheUnavailableError, ResponseCache
from mangaassist.cache.memory import MemoryResponseCache
from mangaassist.cache.redis import RedisResponseCache
from tests.conftest import REDIS_URL, redis_problem, require_service

#: Short enough to keep the suite fast on real Redis, long enough to read an entry before it goes.
SHORT_TTL_S = 0.2

pytestmark = pytest.mark.timeout(20)

Elapse = Callable[[float], Awaitable[None]]
RedisCacheFactory = Callable[[str], RedisResponseCache]


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def _eventually_missing(cache: ResponseCache, key: str, within_s: float = 2.0) -> bool:
    """Poll until ``key`` reads as a miss; False if it is still there after ``within_s``."""
    deadline = time.monotonic() + within_s
    while await cache.get(key) is not None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def memory_cache(clock: FakeClock) -> AsyncIterator[MemoryResponseCache]:
    async with MemoryResponseCache(clock=clock) as cache:
        yield cache


@pytest.fixture
def memory_elapse(clock: FakeClock) -> Elapse:
    async def elapse(seconds: float) -> None:
        clock.advance(seconds)

    return elapse


@pytest.fixture
async def redis_caches() -> AsyncIterator[RedisCacheFactory]:
    """Caches on this test's namespace plus a suffix (same suffix, same shared namespace)."""
    require_service("Redis", redis_problem)
    base = f"mangaassist:test:{uuid.uuid4().hex[:12]}"
    made: list[RedisResponseCache] = []

    def make(suffix: str = "") -> RedisResponseCache:
        cache = RedisResponseCache(REDIS_URL, namespace=base + suffix)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.clear()
        await cache.close()


@pytest.fixture
def redis_cache(redis_caches: RedisCacheFactory) -> RedisResponseCache:
    return redis_caches("")


@pytest.fixture
def redis_elapse() -> Elapse:
    async def elapse(seconds: float) -> None:
        await asyncio.sleep(seconds)  # Redis expires on its own clock

    return elapse


@pytest.fixture(params=["memory", "redis"])
def cache_backend(request: pytest.FixtureRequest) -> str:
    """Name of the cache backend a conformance test runs on."""
    return str(request.param)


@pytest.fixture
def cache(request: pytest.FixtureRequest, cache_backend: str) -> ResponseCache:
    """The response cache port on every backend (STYLE.md: one suite, every adapter)."""
    backend: ResponseCache = request.getfixturevalue(f"{cache_backend}_cache")
    return backend


@pytest.fixture
def elapse(request: pytest.FixtureRequest, cache_backend: str) -> Elapse:
    """Let time pass for the cache under test: a fake clock in memory, real time on Redis."""
    passing: Elapse = request.getfixturevalue(f"{cache_backend}_elapse")
    return passing


async def test_round_trip_keeps_any_key_and_bytes_exactly(cache: ResponseCache) -> None:
    # NFC and NFD spellings of the same word are different keys: normalizing is the caller's job.
    entries = {
        "ワンピース 107巻は在庫ありますか？": "在庫あり（残り3冊）".encode(),
        "👨‍👩‍👧 family manga おすすめ": b"\x00\xff\x00binary",
        "𠮷野家のﾊﾝｶｸ": b"",
        unicodedata.normalize("NFC", "がっこうぐらし"): b"nfc",
        unicodedata.normalize("NFD", "がっこうぐらし"): b"nfd",
        "長い質問" * 2_500: b"long key",
    }
    for key, value in entries.items():
        await cache.put(key, value)

    for key, value in entries.items():
        assert await cache.get(key) == value


async def test_missing_key_reads_as_none(cache: ResponseCache) -> None:
    await cache.put("ある質問", b"answer")

    assert await cache.get("ない質問") is None


async def test_put_replaces_the_value(cache: ResponseCache) -> None:
    await cache.put("在庫", b"in stock", product_ids=["MNG-1"])
    await cache.put("在庫", b"sold out", product_ids=["MNG-1"])

    assert await cache.get("在庫") == b"sold out"
    assert await cache.invalidate_products(["MNG-1"]) == 1


async def test_entry_expires_after_its_ttl(cache: ResponseCache, elapse: Elapse) -> None:
    await cache.put("short", b"v", ttl_s=SHORT_TTL_S)
    await cache.put("long", b"v", ttl_s=60)
    assert await cache.get("short") == b"v"

    await elapse(SHORT_TTL_S)

    assert await _eventually_missing(cache, "short")
    assert await cache.get("long") == b"v"


async def test_invalidate_drops_exactly_the_entries_mentioning_the_products(
    cache: ResponseCache,
) -> None:
    # Given answers mentioning various products
    await cache.put("a", b"a", product_ids=["MNG-1"])
    await cache.put("b", b"b", product_ids=["MNG-2"])
    await cache.put("c", b"c", product_ids=["MNG-1", "MNG-3"])
    await cache.put("d", b"d")
    await cache.put("e", b"e", product_ids=["MNG-4"])

    # When two of the products change (one id repeated, one unknown)
    dropped = await cache.invalidate_products(["MNG-1", "MNG-2", "MNG-1", "MNG-404"])

    # Then every answer mentioning them is gone, each counted once, and the rest stay
    assert dropped == 3
    assert [await cache.get(k) for k in "abc"] == [None, None, None]
    assert await cache.get("d") == b"d"
    assert await cache.get("e") == b"e"
    assert await cache.invalidate_products(["MNG-3"]) == 0  # c left every product's index
    assert await cache.invalidate_products(["MNG-4"]) == 1
    assert await cache.invalidate_products([]) == 0


async def test_invalidation_reaches_entries_outliving_a_shorter_sibling(
    cache: ResponseCache, elapse: Elapse
) -> None:
    # A later short-lived answer about the same product must not shorten how long the
    # product's index finds the long-lived one.
    await cache.put("long", b"v", product_ids=["MNG-1"], ttl_s=60)
    await cache.put("short", b"v", product_ids=["MNG-1"], ttl_s=SHORT_TTL_S)
    await elapse(SHORT_TTL_S)
    assert await _eventually_missing(cache, "short")

    assert await cache.invalidate_products(["MNG-1"]) == 1  # the expired one is not counted
    assert await cache.get("long") is None


async def test_re_put_replaces_the_products_an_entry_belongs_to(cache: ResponseCache) -> None:
    await cache.put("q1", b"old", product_ids=["MNG-1", "MNG-2"])
    await cache.put("q2", b"old", product_ids=["MNG-1"])
    await cache.put("q1", b"new", product_ids=["MNG-2"])
    await cache.put("q2", b"new")

    assert await cache.invalidate_products(["MNG-1"]) == 0
    assert await cache.get("q1") == b"new"
    assert await cache.get("q2") == b"new"
    assert await cache.invalidate_products(["MNG-2"]) == 1
    assert await cache.get("q1") is None


async def test_re_put_after_expiry_does_not_inherit_old_products(
    cache: ResponseCache, elapse: Elapse
) -> None:
    await cache.put("q", b"old", product_ids=["MNG-1"], ttl_s=SHORT_TTL_S)
    await cache.put("other", b"v", product_ids=["MNG-1"], ttl_s=60)  # keeps MNG-1's index alive
    await elapse(SHORT_TTL_S)
    assert await _eventually_missing(cache, "q")

    await cache.put("q", b"new")

    assert await cache.invalidate_products(["MNG-1"]) == 1  # only "other"
    assert await cache.get("q") == b"new"


async def test_delete_drops_the_entry_and_its_index(cache: ResponseCache) -> None:
    await cache.put("q", b"v", product_ids=["MNG-1"])

    assert await cache.delete("q") is True
    assert await cache.get("q") is None
    assert await cache.delete("q") is False
    assert await cache.invalidate_products(["MNG-1"]) == 0


async def test_clear_drops_every_entry_and_the_cache_keeps_working(cache: ResponseCache) -> None:
    for i in range(5):
        await cache.put(f"q{i}", b"v", product_ids=["MNG-1"])

    await cache.clear()

    assert [await cache.get(f"q{i}") for i in range(5)] == [None] * 5
    assert await cache.invalidate_products(["MNG-1"]) == 0
    await cache.put("q0", b"again", product_ids=["MNG-1"])
    assert await cache.get("q0") == b"again"
    assert await cache.invalidate_products(["MNG-1"]) == 1


async def test_ping_succeeds_when_reachable(cache: ResponseCache) -> None:
    await cache.ping()


async def test_backend_name(cache: ResponseCache, cache_backend: str) -> None:
    assert cache.backend == cache_backend


async def test_rejects_arguments_that_would_corrupt_entries(cache: ResponseCache) -> None:
    with pytest.raises(TypeError, match="wrap a single id"):
        await cache.put("q", b"v", product_ids="MNG-1")
    with pytest.raises(TypeError, match="wrap a single id"):
        await cache.invalidate_products("MNG-1")
    with pytest.raises(TypeError, match="bytes"):
        await cache.put("q", "text")  # type: ignore[arg-type]
    for ttl_s in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="ttl_s"):
            await cache.put("q", b"v", ttl_s=ttl_s)
    assert await cache.get("q") is None


async def test_concurrent_put_then_invalidate_never_leaves_a_stale_entry(
    cache: ResponseCache,
) -> None:
    # Each task caches answers and invalidates their product, racing tasks sharing products:
    # every answer must be dropped by exactly one invalidation, none may survive.
    tasks, rounds = 30, 5

    async def put_then_invalidate(task: int) -> int:
        product, dropped = f"MNG-{task % 3}", 0
        for round_ in range(rounds):
            await cache.put(f"質問{task}-{round_}", b"stale", product_ids=[product])
            dropped += await cache.invalidate_products([product])
        return dropped

    counts = await asyncio.gather(*(put_then_invalidate(task) for task in range(tasks)))

    assert sum(counts) == tasks * rounds
    for task in range(tasks):
        assert [await cache.get(f"質問{task}-{r}") for r in range(rounds)] == [None] * rounds


async def test_concurrent_re_puts_leave_the_index_matching_the_entries(
    cache: ResponseCache,
) -> None:
    # Given many racing re-puts of the same keys, each value naming the product it mentions
    products = ["MNG-A", "MNG-B", "MNG-C"]
    puts = [
        cache.put(f"質問{k}", product.encode(), product_ids=[product])
        for round_ in range(6)
        for k in range(10)
        for product in [products[(k + round_) % 3]]
    ]
    await asyncio.gather(*puts)

    # When each product is invalidated, then exactly the entries whose last put mentions it go
    final = [await cache.get(f"質問{k}") for k in range(10)]
    expected = Counter(value.decode() for value in final if value is not None)
    assert sum(expected.values()) == 10
    for product in products:
        assert await cache.invalidate_products([product]) == expected[product]
    assert [await cache.get(f"質問{k}") for k in range(10)] == [None] * 10


# In memory only: bounded size.


async def test_memory_evicts_least_recently_used_entry_and_its_index(clock: FakeClock) -> None:
    cache = MemoryResponseCache(max_entries=3, clock=clock)
    await cache.put("a", b"a", product_ids=["MNG-A"])
    await cache.put("b", b"b", product_ids=["MNG-B"])
    await cache.put("c", b"c", product_ids=["MNG-C"])
    assert await cache.get("a") == b"a"  # a is now more recent than b

    await cache.put("d", b"d", product_ids=["MNG-A"])

    assert await cache.get("b") is None
    assert [await cache.get(k) for k in "acd"] == [b"a", b"c", b"d"]
    assert await cache.invalidate_products(["MNG-A"]) == 2
    await cache.put("b", b"b again")  # b's evicted entry must not have left it in MNG-B's index
    assert await cache.invalidate_products(["MNG-B"]) == 0
    assert await cache.get("b") == b"b again"


async def test_memory_drops_expired_entries_before_evicting_live_ones(clock: FakeClock) -> None:
    cache = MemoryResponseCache(max_entries=2, clock=clock)
    await cache.put("live", b"v", ttl_s=60)
    await cache.put("dying", b"v", ttl_s=1)
    clock.advance(1)

    await cache.put("new", b"v")

    assert await cache.get("live") == b"v"  # least recently used, but still valid
    assert await cache.get("new") == b"v"


async def test_memory_entry_lives_until_its_ttl_is_up(
    memory_cache: MemoryResponseCache, clock: FakeClock
) -> None:
    await memory_cache.put("q", b"v", product_ids=["MNG-1"], ttl_s=10)
    clock.advance(9.999)
    assert await memory_cache.get("q") == b"v"

    clock.advance(0.001)

    assert await memory_cache.get("q") is None
    assert await memory_cache.delete("q") is False
    assert await memory_cache.invalidate_products(["MNG-1"]) == 0


def test_memory_rejects_an_empty_bound() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryResponseCache(max_entries=0)


# On Redis only: what several API processes share.


async def test_redis_instances_share_puts_and_invalidations(
    redis_caches: RedisCacheFactory,
) -> None:
    # Two caches on one namespace stand for two API processes.
    first, second = redis_caches(""), redis_caches("")

    await first.put("ワンピース在庫", b"in stock", product_ids=["MNG-1"])
    assert await second.get("ワンピース在庫") == b"in stock"

    assert await second.invalidate_products(["MNG-1"]) == 1
    assert await first.get("ワンピース在庫") is None

    await second.put("q", b"v")
    assert await first.delete("q") is True
    assert await second.get("q") is None


async def test_redis_clear_leaves_other_namespaces_alone(redis_caches: RedisCacheFactory) -> None:
    # "*" would match the sibling's keys if the namespace were not escaped in the SCAN pattern.
    mine, sibling = redis_caches("*"), redis_caches("-other")
    await mine.put("q", b"mine", product_ids=["MNG-1"])
    await sibling.put("q", b"theirs", product_ids=["MNG-1"])

    await mine.clear()

    assert await mine.get("q") is None
    assert await sibling.get("q") == b"theirs"
    assert await sibling.invalidate_products(["MNG-1"]) == 1


async def test_redis_unreachable_raises_cache_unavailable_without_credentials() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = RedisResponseCache(f"redis://shop:s3cret@127.0.0.1:{port}/0", timeout_s=0.5)
    try:
        with pytest.raises(CacheUnavailableError) as failure:
            await cache.ping()
        with pytest.raises(CacheUnavailableError):
            await cache.get("q")
    finally:
        await cache.close()

    assert f"127.0.0.1:{port}" in str(failure.value)
    assert "s3cret" not in str(failure.value)
