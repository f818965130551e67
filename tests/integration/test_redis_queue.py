"""What only the Redis queue needs tested: long polls on the real clock, namespaces, and an
unreachable server.

An idle long poll blocks on the queue's wake stream, which sends and releases signal; messages
that become visible by time alone (a visibility timeout or a delay passing) signal nothing, so
the poll must wake by itself when they are due. The conformance suite runs on a fake clock and
cannot see that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from mangaassist.queues.base import QueueConfig
from mangaassist.queues.redis import RedisQueue
from tests.conftest import REDIS_URL
from tests.integration.queue_backends.redis import redis_namespace  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(20)

#: Real seconds: long enough to tell "woke when due" from "woke at once".
SHORT_S = 0.3
LONG_WAIT_S = 5.0

Queues = Callable[[str], RedisQueue]


@pytest.fixture
async def queues(redis_namespace: str) -> AsyncIterator[Queues]:  # noqa: F811 - fixture
    """Clients on the real clock; the argument is appended to the test's namespace."""
    made: list[RedisQueue] = []

    def make(suffix: str = "") -> RedisQueue:
        made.append(RedisQueue(REDIS_URL, namespace=redis_namespace + suffix))
        return made[-1]

    yield make
    for queue in made:
        await queue.close()


async def timed_receive(queue: RedisQueue, name: str) -> tuple[list[str], float]:
    started = time.monotonic()
    received = await queue.receive(name, max_messages=10, wait_s=LONG_WAIT_S)
    return [m.body for m in received], time.monotonic() - started


async def test_long_poll_wakes_when_a_timeout_or_delay_passes(queues: Queues) -> None:
    queue = queues("")
    await queue.create_queue(QueueConfig("orders"))
    await queue.send("orders", "戻る")
    await queue.receive("orders", visibility_timeout_s=SHORT_S)

    bodies, waited = await timed_receive(queue, "orders")
    assert bodies == ["戻る"]
    assert SHORT_S - 0.05 <= waited < SHORT_S + 0.5

    await queue.send("orders", "遅れて", delay_s=SHORT_S)
    bodies, waited = await timed_receive(queue, "orders")
    assert bodies == ["遅れて"]
    assert SHORT_S - 0.05 <= waited < SHORT_S + 0.5


async def test_long_poll_wakes_when_another_client_releases_a_message(queues: Queues) -> None:
    queue, other = queues(""), queues("")
    await queue.create_queue(QueueConfig("orders", visibility_timeout_s=600))
    await queue.send("orders", "やり直し")
    [message] = await other.receive("orders")

    async def give_up_soon() -> None:
        await asyncio.sleep(0.1)
        await other.change_visibility("orders", message.receipt_handle, 0)

    releasing = asyncio.create_task(give_up_soon())
    bodies, waited = await timed_receive(queue, "orders")
    await releasing

    assert bodies == ["やり直し"]
    assert waited < 0.6  # the wake stream, not the fallback poll (POLL_MAX_S = 1 s)


async def test_namespaces_and_queue_names_never_share_keys(queues: Queues) -> None:
    first, second = queues(""), queues(":other")
    # Unescaped, "o.fifo"'s group "s" would be a list at the key of "o.fifo:g"'s stream, and
    # "a:s" and "a%3As" would be one queue.
    await first.create_queue(QueueConfig("o.fifo", content_based_dedup=True))
    await first.send("o.fifo", "in o.fifo", group_id="s")
    await first.send("o.fifo", "behind", group_id="s")
    for name in ("o.fifo:g", "a:s", "a%3As"):
        await first.create_queue(QueueConfig(name))
        await first.send(name, f"in {name}")
    await second.create_queue(QueueConfig("o.fifo:g"))

    for name in ("o.fifo", "o.fifo:g", "a:s", "a%3As"):
        assert [m.body for m in await first.receive(name, max_messages=10)] == [f"in {name}"]
    assert await second.list_queues() == ["o.fifo:g"]
    assert await second.receive("o.fifo:g", max_messages=10) == []


async def test_an_unreachable_redis_raises_an_os_error() -> None:
    # The worker takes OSError for "the backend is away": it waits and tries again.
    queue = RedisQueue("redis://user:secret@127.0.0.1:1/0", namespace="unreachable")
    try:
        with pytest.raises(ConnectionError) as raised:
            await queue.list_queues()
    finally:
        await queue.close()

    assert isinstance(raised.value, OSError)
    assert "secret" not in str(raised.value)
