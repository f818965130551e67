"""RedisQueue in the conformance suite: a namespace per test on REDIS_URL, and a fake clock.

The queue takes its time from the clock it is given (Redis's own clock only names stream
entries), so ``redis_elapse`` moves a fake clock, as on SQLite: the 5-minute deduplication
window passes at once. Each test's keys live under a namespace of its own, deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence

import pytest

from mangaassist.queues.base import QueueBackend
from mangaassist.queues.redis import RedisQueue
from tests.conftest import REDIS_URL, redis_problem, require_service
from tests.integration.queue_backends import ChildSpec, Clients, Elapse
from tests.integration.queue_fixtures import FakeClock

__all__ = [
    "open_child",
    "redis_child_spec",
    "redis_clients",
    "redis_clock",
    "redis_elapse",
    "redis_namespace",
    "redis_queue",
]


@pytest.fixture
def redis_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A namespace no other test uses; its keys are deleted afterwards."""
    require_service("Redis", redis_problem)
    namespace = f"mangaassist:test:queues:{uuid.uuid4().hex[:12]}"
    yield namespace
    import redis

    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=500))
        if keys:
            client.unlink(*keys)


@pytest.fixture
async def redis_clients(redis_namespace: str, redis_clock: FakeClock) -> AsyncIterator[Clients]:
    made: list[RedisQueue] = []

    def make() -> QueueBackend:
        made.append(RedisQueue(REDIS_URL, namespace=redis_namespace, clock=redis_clock))
        return made[-1]

    yield make
    for queue in made:
        await queue.close()


@pytest.fixture
def redis_queue(redis_clients: Clients) -> QueueBackend:
    return redis_clients()


@pytest.fixture
def redis_elapse(redis_clock: FakeClock) -> Elapse:
    async def elapse(seconds: float) -> None:
        redis_clock.advance(seconds)

    return elapse


@pytest.fixture
def redis_child_spec(redis_namespace: str, redis_clock: FakeClock) -> ChildSpec:
    return lambda: ["redis", REDIS_URL, redis_namespace, repr(redis_clock.now)]


def open_child(args: Sequence[str]) -> QueueBackend:
    """``URL NAMESPACE NOW``: the test's namespace, with a clock stopped at NOW."""
    url, namespace, now = args
    stopped = float(now)
    return RedisQueue(url, namespace=namespace, clock=lambda: stopped)
