"""The delta buffer port's behaviour, identical in memory and on Redis.

Every test taking ``buffer`` or ``make_buffer`` runs on both backends: memory with a fake clock,
Redis on a private namespace per test, deleted afterwards. Without Redis those runs skip locally
and fail under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from mangaassist.stream.buffer import (
    BufferedEvent,
    BufferFullError,
    BufferUnavailableError,
    ClosedMessageError,
    DeltaBuffer,
    MemoryDeltaBuffer,
    MessageExistsError,
    UnknownMessageError,
)
from mangaassist.stream.redis_buffer import RedisDeltaBuffer
from tests.conftest import REDIS_URL, redis_problem, require_service

#: Short enough to keep the suite fast on real Redis, long enough to act within it.
SHORT_WINDOW_S = 0.3

pytestmark = pytest.mark.timeout(20)

BufferFactory = Callable[..., DeltaBuffer]
Elapse = Callable[[float], Awaitable[None]]
RedisBufferFactory = Callable[..., RedisDeltaBuffer]

TEXTS = ["ワンピース107巻は", "在庫あり🎉（残り3冊）", "𠮷野家の👨‍👩‍👧 family"]


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _message_id() -> str:
    return uuid.uuid4().hex


async def _collect(events: AsyncIterator[BufferedEvent]) -> list[BufferedEvent]:
    return [event async for event in events]


async def _eventually_gone(buffer: DeltaBuffer, message_id: str, within_s: float = 3.0) -> bool:
    """Poll until the message reads as unknown; False if it is still there after ``within_s``."""
    deadline = time.monotonic() + within_s
    while await buffer.meta(message_id) is not None:
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _append_deltas(buffer: DeltaBuffer, message_id: str, count: int, first: int = 1) -> None:
    """Append deltas numbered from ``first``, yielding to other tasks between them."""
    for n in range(first, first + count):
        assert await buffer.append(message_id, "delta", {"text": f"断片{n}"}) == n
        if n % 7 == 0:
            await asyncio.sleep(0)


def _seqs(events: list[BufferedEvent]) -> list[int]:
    return [event.seq for event in events]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def memory_buffers(clock: FakeClock) -> AsyncIterator[BufferFactory]:
    made: list[MemoryDeltaBuffer] = []

    def make(**options: Any) -> MemoryDeltaBuffer:
        made.append(MemoryDeltaBuffer(clock=clock, **options))
        return made[-1]

    yield make
    for buffer in made:
        await buffer.close()


@pytest.fixture
async def redis_buffers() -> AsyncIterator[RedisBufferFactory]:
    """Buffers on this test's private namespace: several stand for several API processes."""
    require_service("Redis", redis_problem)
    from redis.asyncio import Redis

    namespace = f"mangaassist:test:stream:{uuid.uuid4().hex[:12]}"
    made: list[RedisDeltaBuffer] = []

    def make(**options: Any) -> RedisDeltaBuffer:
        made.append(RedisDeltaBuffer(REDIS_URL, namespace=namespace, **options))
        return made[-1]

    yield make
    for buffer in made:
        await buffer.close()
    async with Redis.from_url(REDIS_URL) as client:
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.unlink(*keys)


@pytest.fixture
def memory_elapse(clock: FakeClock) -> Elapse:
    async def elapse(seconds: float) -> None:
        clock.advance(seconds)

    return elapse


@pytest.fixture
def redis_elapse() -> Elapse:
    async def elapse(seconds: float) -> None:
        await asyncio.sleep(seconds)  # Redis expires on its own clock

    return elapse


@pytest.fixture(params=["memory", "redis"])
def buffer_backend(request: pytest.FixtureRequest) -> str:
    """Name of the buffer backend a conformance test runs on."""
    return str(request.param)


@pytest.fixture
def make_buffer(request: pytest.FixtureRequest, buffer_backend: str) -> BufferFactory:
    """Buffers with chosen options on every backend (STYLE.md: one suite, every adapter)."""
    factory: BufferFactory = request.getfixturevalue(f"{buffer_backend}_buffers")
    return factory


@pytest.fixture
def buffer(make_buffer: BufferFactory) -> DeltaBuffer:
    return make_buffer()


@pytest.fixture
def elapse(request: pytest.FixtureRequest, buffer_backend: str) -> Elapse:
    """Let time pass for the buffer under test: a fake clock in memory, real time on Redis."""
    passing: Elapse = request.getfixturevalue(f"{buffer_backend}_elapse")
    return passing


async def test_round_trip_keeps_japanese_emoji_and_rare_kanji(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    meta: dict[str, object] = {"sessionId": "セッション𠮷", "requestId": "req-1", "n": [1, 2.5]}
    await buffer.open(message_id, meta)

    for text in TEXTS:
        await buffer.append(message_id, "delta", {"text": text})
    answer: dict[str, object] = {"answer": {"text": "".join(TEXTS), "products": ["MNG-1"]}}
    await buffer.append(message_id, "done", answer)

    assert await buffer.meta(message_id) == meta
    assert await buffer.read(message_id) == [
        BufferedEvent(1, "delta", {"text": TEXTS[0]}),
        BufferedEvent(2, "delta", {"text": TEXTS[1]}),
        BufferedEvent(3, "delta", {"text": TEXTS[2]}),
        BufferedEvent(4, "done", answer),
    ]
    assert [event.final for event in await buffer.read(message_id)] == [False] * 3 + [True]


async def test_append_numbers_events_from_one_including_the_final(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {})

    numbers = [await buffer.append(message_id, "delta", {"text": str(n)}) for n in range(5)]
    numbers.append(await buffer.append(message_id, "error", {"code": "MODEL_TIMEOUT"}))

    assert numbers == [1, 2, 3, 4, 5, 6]
    assert await buffer.read(message_id, after_seq=4) == [
        BufferedEvent(5, "delta", {"text": "4"}),
        BufferedEvent(6, "error", {"code": "MODEL_TIMEOUT"}),
    ]


async def test_read_after_a_number_returns_exactly_the_tail(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {})
    await _append_deltas(buffer, message_id, 10)

    for after in range(12):
        assert _seqs(await buffer.read(message_id, after_seq=after)) == list(range(after + 1, 11))


async def test_follow_from_start_gets_backlog_then_live_events_and_ends_after_final(
    buffer: DeltaBuffer,
) -> None:
    # Given a message with two deltas buffered
    message_id = _message_id()
    await buffer.open(message_id, {})
    await _append_deltas(buffer, message_id, 2)
    caught_up = asyncio.Event()

    async def follower() -> list[BufferedEvent]:
        received = []
        async for event in buffer.follow(message_id):
            received.append(event)
            if event.seq == 2:
                caught_up.set()
        return received

    async def producer() -> None:
        await caught_up.wait()  # the rest arrive only while the follower is waiting live
        await _append_deltas(buffer, message_id, 3, first=3)
        await buffer.append(message_id, "done", {"answer": {"text": "完"}})

    # When a follower starts from 0 while the producer carries on
    received, _ = await asyncio.gather(follower(), producer())

    # Then it receives every event once, the final one last, and stops there
    assert _seqs(received) == [1, 2, 3, 4, 5, 6]
    assert received[-1] == BufferedEvent(6, "done", {"answer": {"text": "完"}})


async def test_resume_from_the_middle_gets_the_rest_exactly_once_during_appends(
    buffer: DeltaBuffer,
) -> None:
    # Given a customer who saw 20 of 50 deltas before the train entered a tunnel
    message_id = _message_id()
    await buffer.open(message_id, {})
    await _append_deltas(buffer, message_id, 50)

    async def producer() -> None:
        await _append_deltas(buffer, message_id, 150, first=51)
        await buffer.append(message_id, "done", {"answer": {}})

    # When they resume after 20 while generation goes on
    received, _ = await asyncio.gather(
        _collect(buffer.follow(message_id, after_seq=20)), producer()
    )

    # Then they get 21..201 once each, in order: no gap, no duplicate
    assert _seqs(received) == list(range(21, 202))
    assert received[-1].kind == "done"


async def test_concurrent_followers_each_get_every_event(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {})
    await _append_deltas(buffer, message_id, 3)

    async def producer() -> None:
        await asyncio.sleep(0.01)
        await _append_deltas(buffer, message_id, 40, first=4)
        await buffer.append(message_id, "cancelled", {})

    starts = (0, 0, 1, 3, 10)
    followers = (_collect(buffer.follow(message_id, after_seq=start)) for start in starts)
    results, _ = await asyncio.gather(asyncio.gather(*followers), producer())

    for start, received in zip(starts, results, strict=True):
        assert _seqs(received) == list(range(start + 1, 45))
        assert received[-1].kind == "cancelled"


async def test_follow_after_the_final_event_ends_at_once(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {})
    await _append_deltas(buffer, message_id, 2)
    await buffer.append(message_id, "done", {"answer": {}})

    assert await _collect(buffer.follow(message_id, after_seq=3, idle_timeout_s=5)) == []
    assert _seqs(await _collect(buffer.follow(message_id, after_seq=2))) == [3]


@pytest.mark.parametrize("final", ["done", "error", "cancelled"])
async def test_append_after_the_final_event_raises(buffer: DeltaBuffer, final: str) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {})
    await buffer.append(message_id, final, {})

    with pytest.raises(ClosedMessageError):
        await buffer.append(message_id, "delta", {"text": "late"})
    with pytest.raises(ClosedMessageError):
        await buffer.append(message_id, "done", {})
    assert _seqs(await buffer.read(message_id)) == [1]


async def test_unknown_message_is_reported_not_mistaken_for_empty(buffer: DeltaBuffer) -> None:
    message_id = _message_id()

    assert await buffer.meta(message_id) is None
    with pytest.raises(UnknownMessageError):
        await buffer.read(message_id)
    with pytest.raises(UnknownMessageError):
        await _collect(buffer.follow(message_id, idle_timeout_s=5))
    with pytest.raises(UnknownMessageError):
        await buffer.append(message_id, "delta", {"text": "orphan"})


async def test_opening_an_existing_message_raises_and_keeps_it(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {"sessionId": "first"})
    await buffer.append(message_id, "delta", {"text": "a"})

    with pytest.raises(MessageExistsError):
        await buffer.open(message_id, {"sessionId": "second"})

    assert await buffer.meta(message_id) == {"sessionId": "first"}
    assert _seqs(await buffer.read(message_id)) == [1]


async def test_message_expires_a_window_after_its_last_append(
    make_buffer: BufferFactory, elapse: Elapse
) -> None:
    # Given a message whose window is slid forward by an append
    buffer = make_buffer(window_s=SHORT_WINDOW_S)
    message_id = _message_id()
    await buffer.open(message_id, {"sessionId": "s"})
    await elapse(SHORT_WINDOW_S * 2 / 3)
    await buffer.append(message_id, "delta", {"text": "まだ"})

    # When more than a window has passed since open, but not since the append
    await elapse(SHORT_WINDOW_S * 2 / 3)

    # Then it is still there, and it goes a window after the append
    assert _seqs(await buffer.read(message_id)) == [1]
    await elapse(SHORT_WINDOW_S / 3)
    assert await _eventually_gone(buffer, message_id)
    with pytest.raises(UnknownMessageError):
        await buffer.read(message_id)
    await buffer.open(message_id, {"sessionId": "again"})  # the id may be reused afterwards
    assert await buffer.read(message_id) == []


async def test_per_message_event_limit_raises_and_still_admits_the_final(
    make_buffer: BufferFactory,
) -> None:
    buffer = make_buffer(max_events_per_message=3)
    message_id = _message_id()
    await buffer.open(message_id, {})
    await _append_deltas(buffer, message_id, 3)

    with pytest.raises(BufferFullError, match="3 events"):
        await buffer.append(message_id, "delta", {"text": "too many"})

    # The refused delta took no number; the producer can still end the message.
    assert await buffer.append(message_id, "error", {"code": "ANSWER_TOO_LONG"}) == 4
    assert _seqs(await _collect(buffer.follow(message_id))) == [1, 2, 3, 4]


async def test_per_message_byte_limit_counts_utf8_bytes_of_json(
    make_buffer: BufferFactory,
) -> None:
    buffer = make_buffer(max_bytes_per_message=64)
    message_id = _message_id()
    await buffer.open(message_id, {})
    await buffer.append(message_id, "delta", {"text": "a" * 40})  # 51 bytes of JSON

    # 14 characters, but 53 bytes of UTF-8 JSON: it would pass the limit
    with pytest.raises(BufferFullError, match="64 bytes"):
        await buffer.append(message_id, "delta", {"text": "あ" * 14})
    await buffer.append(message_id, "delta", {"t": "b"})  # 9 bytes: fits exactly at 60

    # A final event needs room only for itself, and no event may pass the limit alone.
    with pytest.raises(BufferFullError):
        await buffer.append(message_id, "done", {"answer": "完" * 30})
    assert await buffer.append(message_id, "done", {"answer": "完" * 10}) == 3
    assert _seqs(await buffer.read(message_id)) == [1, 2, 3]


async def test_alias_keeps_the_first_message_id(buffer: DeltaBuffer) -> None:
    assert await buffer.alias("session-1:クライアント-1", "msg-first") == "msg-first"

    assert await buffer.alias("session-1:クライアント-1", "msg-retry") == "msg-first"
    assert await buffer.alias("session-1:クライアント-2", "msg-other") == "msg-other"


async def test_concurrent_aliases_agree_on_one_message(buffer: DeltaBuffer) -> None:
    winners = await asyncio.gather(*(buffer.alias("retry-storm", f"msg-{n}") for n in range(20)))

    assert len(set(winners)) == 1


async def test_alias_expires_with_the_window(make_buffer: BufferFactory, elapse: Elapse) -> None:
    buffer = make_buffer(window_s=SHORT_WINDOW_S)
    await buffer.alias("client-1", "msg-old")
    await elapse(SHORT_WINDOW_S)

    deadline = time.monotonic() + 3.0
    while await buffer.alias("client-1", "msg-new") != "msg-new":
        assert time.monotonic() < deadline, "the alias outlived its window"
        await asyncio.sleep(0.02)


async def test_follow_stops_when_nothing_new_arrives(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {})
    await buffer.append(message_id, "delta", {"text": "最初だけ"})
    events = buffer.follow(message_id, idle_timeout_s=0.15)
    started = time.monotonic()

    assert (await anext(events)).seq == 1
    with pytest.raises(TimeoutError):
        await anext(events)

    assert 0.1 <= time.monotonic() - started < 2.0


async def test_cancelling_a_waiting_follower_is_prompt(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {})
    follower = asyncio.create_task(_collect(buffer.follow(message_id)))
    await asyncio.sleep(0.05)

    started = time.monotonic()
    follower.cancel()
    with pytest.raises(asyncio.CancelledError):
        await follower

    assert time.monotonic() - started < 0.5
    assert await buffer.append(message_id, "delta", {"text": "続き"}) == 1  # buffer still works


async def test_rejects_arguments_that_would_corrupt_the_stream(buffer: DeltaBuffer) -> None:
    message_id = _message_id()
    await buffer.open(message_id, {})

    with pytest.raises(ValueError, match="kind"):
        await buffer.append(message_id, "finished", {})
    with pytest.raises(TypeError, match="dict"):
        await buffer.append(message_id, "delta", "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="JSON"):
        await buffer.append(message_id, "delta", {"score": float("nan")})
    with pytest.raises(TypeError):
        await buffer.append(message_id, "delta", {"raw": b"bytes"})
    with pytest.raises(ValueError, match="after_seq"):
        await buffer.read(message_id, after_seq=-1)
    with pytest.raises(ValueError, match="idle_timeout_s"):
        buffer.follow(message_id, idle_timeout_s=0)
    with pytest.raises(ValueError, match="alias"):
        await buffer.alias("", message_id)
    assert await buffer.read(message_id) == []


async def test_ping_and_backend_name(buffer: DeltaBuffer, buffer_backend: str) -> None:
    await buffer.ping()

    assert buffer.backend == buffer_backend


# In memory only: bounded size.


async def test_memory_keeps_at_most_max_messages_evicting_finished_first(
    clock: FakeClock,
) -> None:
    # Given a buffer for 5 messages and 20 answers, every even one finished at once
    buffer = MemoryDeltaBuffer(max_messages=5, clock=clock)
    for n in range(20):
        await buffer.open(f"m{n}", {})
        await buffer.append(f"m{n}", "delta", {"text": "…"})
        if n % 2 == 0:
            await buffer.append(f"m{n}", "done", {"answer": {}})

    # Then memory holds 5 messages: the newest unfinished ones are all still resumable
    assert len(buffer) == 5
    held = [n for n in range(20) if await buffer.meta(f"m{n}") is not None]
    assert held == [11, 13, 15, 17, 19]


async def test_memory_evicts_the_oldest_unfinished_when_none_is_finished(clock: FakeClock) -> None:
    buffer = MemoryDeltaBuffer(max_messages=2, clock=clock)
    for message_id in ("a", "b", "c"):
        await buffer.open(message_id, {})

    assert len(buffer) == 2
    assert [await buffer.meta(m) is not None for m in "abc"] == [False, True, True]
    with pytest.raises(UnknownMessageError):  # its producer learns at the next append
        await buffer.append("a", "delta", {"text": "lost"})


async def test_memory_drops_expired_messages_on_open(clock: FakeClock) -> None:
    buffer = MemoryDeltaBuffer(window_s=10, clock=clock)
    for n in range(50):
        await buffer.open(f"old{n}", {})
    clock.advance(10)

    await buffer.open("new", {})

    assert len(buffer) == 1


async def test_memory_follower_of_an_evicted_message_stops(clock: FakeClock) -> None:
    buffer = MemoryDeltaBuffer(max_messages=1, clock=clock)
    await buffer.open("first", {})
    follower = asyncio.create_task(_collect(buffer.follow("first")))
    await asyncio.sleep(0.01)

    await buffer.open("second", {})

    with pytest.raises(UnknownMessageError):
        await asyncio.wait_for(follower, 1.0)


def test_memory_rejects_empty_bounds() -> None:
    with pytest.raises(ValueError, match="max_messages"):
        MemoryDeltaBuffer(max_messages=0)
    with pytest.raises(ValueError, match="window_s"):
        MemoryDeltaBuffer(window_s=0)
    with pytest.raises(ValueError, match="max_events_per_message"):
        MemoryDeltaBuffer(max_events_per_message=0)


# On Redis only: what several API processes share.


async def test_redis_follower_on_another_instance_gets_the_stream_exactly_once(
    redis_buffers: RedisBufferFactory,
) -> None:
    # Given two buffers on one namespace, standing for two API processes
    generating, resumed = redis_buffers(), redis_buffers()
    message_id = _message_id()
    await generating.open(message_id, {"sessionId": "s", "requestId": "r"})
    await _append_deltas(generating, message_id, 30)

    async def producer() -> None:
        await _append_deltas(generating, message_id, 70, first=31)
        await asyncio.sleep(0.05)  # the follower is blocked in XREAD when the end arrives
        await generating.append(message_id, "done", {"answer": {"text": "完"}})

    # When the client resumes on the other process while generation goes on
    received, _ = await asyncio.gather(
        _collect(resumed.follow(message_id, after_seq=12)), producer()
    )

    # Then it receives 13..101 once each, and the other process sees the same metadata
    assert _seqs(received) == list(range(13, 102))
    assert received[-1] == BufferedEvent(101, "done", {"answer": {"text": "完"}})
    assert await resumed.meta(message_id) == {"sessionId": "s", "requestId": "r"}


async def test_redis_instances_share_aliases(redis_buffers: RedisBufferFactory) -> None:
    first, second = redis_buffers(), redis_buffers()

    assert await first.alias("s:c-1", "msg-a") == "msg-a"
    assert await second.alias("s:c-1", "msg-b") == "msg-a"


async def test_redis_unreachable_raises_buffer_unavailable_without_credentials() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    buffer = RedisDeltaBuffer(f"redis://shop:s3cret@127.0.0.1:{port}/0", timeout_s=0.5)
    try:
        with pytest.raises(BufferUnavailableError) as failure:
            await buffer.ping()
        with pytest.raises(BufferUnavailableError):
            await buffer.open("m", {})
        with pytest.raises(BufferUnavailableError):
            await _collect(buffer.follow("m"))
    finally:
        await buffer.close()

    assert f"127.0.0.1:{port}" in str(failure.value)
    assert "s3cret" not in str(failure.value)
