"""The delta buffer on Redis, so a client can resume its answer on any API process.

Layout under the namespace ``ns``, with ``d`` the SHA-256 of the message id:

- ``{ns}:msg:{d}:events``: a Redis Stream with one entry per event. The entry id is
  ``0-{seq}``, so the stream id *is* the event number: ``XRANGE``/``XREAD`` from ``0-{n}``
  return exactly the events after ``n``.
- ``{ns}:msg:{d}:meta``: a hash with the ``meta`` JSON, the last number ``seq``, the deltas'
  ``bytes`` and the ``final`` event's number (0 while open).
- ``{ns}:alias:{sha256(key)}``: the message id a client key maps to.

The two keys of a message share the hash tag ``{d}``, so they live on one cluster slot. Appends
run as one Lua script, atomic on the server: numbering, limits, the end of the message and the
sliding ``PEXPIRE`` of both keys can never interleave between two producers. Followers read the
backlog with ``XRANGE`` and wait with ``XREAD BLOCK`` in chunks of at most a second, so a
cancelled follower lets go promptly and a message that expires is noticed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

from mangaassist.redis_support import UNREACHABLE, redis_client, without_credentials
from mangaassist.stream.buffer import (
    DEFAULT_MAX_BYTES_PER_MESSAGE,
    DEFAULT_MAX_EVENTS_PER_MESSAGE,
    DEFAULT_WINDOW_S,
    FINAL_KINDS,
    Backlog,
    BufferUnavailableError,
    ClosedMessageError,
    DeltaBuffer,
    MessageExistsError,
    StoredEvent,
    UnknownMessageError,
)

if TYPE_CHECKING:
    pass

__all__ = ["DEFAULT_NAMESPACE", "FOLLOW_BLOCK_S", "REDIS_TIMEOUT_S", "RedisDeltaBuffer"]

DEFAULT_NAMESPACE = "mangaassist:stream"

#: Commands answer in milliseconds; one that takes a second means Redis is in trouble.
REDIS_TIMEOUT_S = 1.0

#: Longest single ``XREAD BLOCK``: bounds how late a follower notices expiry or cancellation.
FOLLOW_BLOCK_S = 1.0

# KEYS: meta hash, event stream. ARGV: meta JSON, window ms. 1 if created, 0 if it exists.
_OPEN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'meta', ARGV[1], 'seq', 0, 'bytes', 0, 'final', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS: meta hash, event stream.
# ARGV: kind, payload, payload bytes, 1 if final, max events, max bytes, window ms.
# Returns the event's number, or a negative code: -1 unknown, -2 ended, -3 count, -4 bytes.
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local state = redis.call('HMGET', KEYS[1], 'seq', 'bytes', 'final')
if state[3] ~= '0' then return -2 end
local seq, size = tonumber(state[1]) + 1, tonumber(ARGV[3])
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'final', seq)
elseif seq > tonumber(ARGV[5]) then
  return -3
elseif tonumber(state[2]) + size > tonumber(ARGV[6]) then
  return -4
else
  redis.call('HINCRBY', KEYS[1], 'bytes', size)
end
seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], '0-' .. seq, 'k', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return seq
"""

# KEYS: alias key. ARGV: message id, window ms. The id the key maps to afterwards.
_ALIAS = """
local held = redis.call('GET', KEYS[1])
if held then return held end
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return ARGV[1]
"""


class RedisDeltaBuffer(DeltaBuffer):
    """The delta buffer on Redis, shared by every process that uses the same namespace.

    One process appends while followers on any other process receive every event exactly once.

    Args:
        url: A redis-py URL, e.g. ``redis://127.0.0.1:6379/0``.
        namespace: Prefix of every key this buffer owns.
        window_s: How long a message stays after its last append.
        max_events_per_message: How many deltas one message may hold.
        max_bytes_per_message: How many bytes of JSON data one message's deltas may hold.
        timeout_s: Connect and command timeout; past it an operation raises
            ``BufferUnavailableError``.
    """

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        window_s: float = DEFAULT_WINDOW_S,
        max_events_per_message: int = DEFAULT_MAX_EVENTS_PER_MESSAGE,
        max_bytes_per_message: int = DEFAULT_MAX_BYTES_PER_MESSAGE,
        timeout_s: float = REDIS_TIMEOUT_S,
    ) -> None:
        super().__init__(
            window_s=window_s,
            max_events_per_message=max_events_per_message,
            max_bytes_per_message=max_bytes_per_message,
        )
        if not namespace:
            raise ValueError("namespace must not be empty")
        self.namespace = namespace
        self._where = without_credentials(url)
        self._unreachable = UNREACHABLE()
        self._window_ms = max(1, round(window_s * 1000))
        self._client = redis_client(url, timeout_s=timeout_s)
        # Blocking reads get their own pool, whose socket timeout outlasts the longest block.
        self._reader = redis_client(
            url, timeout_s=timeout_s, socket_timeout_s=timeout_s + FOLLOW_BLOCK_S
        )
        self._open_script = self._client.register_script(_OPEN)
        self._append_script = self._client.register_script(_APPEND)
        self._alias_script = self._client.register_script(_ALIAS)

    async def _open(self, message_id: str, meta: str) -> None:
        with self._unavailable_on_error():
            created = await self._open_script(
                keys=list(self._keys(message_id)), args=[meta, self._window_ms]
            )
        if not created:
            raise MessageExistsError(f"message {message_id!r} is already buffered")

    async def _append(self, message_id: str, kind: str, payload: str, size: int) -> int:
        final = "1" if kind in FINAL_KINDS else "0"
        with self._unavailable_on_error():
            seq = int(
                await self._append_script(
                    keys=list(self._keys(message_id)),
                    args=[
                        kind,
                        payload,
                        size,
                        final,
                        self.max_events_per_message,
                        self.max_bytes_per_message,
                        self._window_ms,
                    ],
                )
            )
        if seq == -1:
            raise UnknownMessageError(
                f"message {message_id!r} is not buffered (unknown or expired)"
            )
        if seq == -2:
            raise ClosedMessageError(f"message {message_id!r} already ended")
        if seq in (-3, -4):
            raise self._full(message_id, by_count=seq == -3)
        return seq

    async def _meta(self, message_id: str) -> str | None:
        meta_key, _ = self._keys(message_id)
        with self._unavailable_on_error():
            meta = await self._client.hget(meta_key, "meta")
        return None if meta is None else cast(bytes, meta).decode()

    async def _events_after(self, message_id: str, after_seq: int, wait_s: float) -> Backlog | None:
        backlog = await self._backlog(message_id, after_seq)
        if backlog is None or backlog.events or backlog.final_seq is not None or wait_s <= 0:
            return backlog
        _, events_key = self._keys(message_id)
        with self._unavailable_on_error():
            # XREAD only signals: the reply's shape differs between RESP2, RESP3 and redis-py
            # versions, and the re-read below also notices an expiry. From the explicit id, not
            # "$", so an event appended since the read above wakes it at once.
            woke = await self._reader.xread(
                {events_key: f"0-{after_seq}"},
                count=1,
                block=max(1, round(min(wait_s, FOLLOW_BLOCK_S) * 1000)),
            )
        return await self._backlog(message_id, after_seq) if woke else Backlog([], None)

    async def _backlog(self, message_id: str, after_seq: int) -> Backlog | None:
        """One consistent read of the events after ``after_seq`` and the final number."""
        meta_key, events_key = self._keys(message_id)
        with self._unavailable_on_error():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hget(meta_key, "final")
                pipe.xrange(events_key, min=f"0-{after_seq + 1}", max="+")
                final, entries = await pipe.execute()
        if final is None:
            return None
        return Backlog(_events(entries), int(final) or None)

    async def _alias(self, key: str, message_id: str) -> str:
        alias_key = f"{self.namespace}:alias:{_digest(key)}"
        with self._unavailable_on_error():
            held = await self._alias_script(keys=[alias_key], args=[message_id, self._window_ms])
        return cast(bytes, held).decode()

    async def ping(self) -> None:
        with self._unavailable_on_error():
            await self._client.ping()

    async def close(self) -> None:
        await self._reader.aclose()
        await self._client.aclose()

    def _keys(self, message_id: str) -> tuple[str, str]:
        """The message's meta hash and event stream, sharing one cluster hash tag."""
        prefix = f"{self.namespace}:msg:{{{_digest(message_id)}}}"
        return f"{prefix}:meta", f"{prefix}:events"

    @contextmanager
    def _unavailable_on_error(self) -> Iterator[None]:
        """Turn redis-py's connection and timeout errors into the port's own error."""
        try:
            yield
        except self._unreachable as exc:
            raise BufferUnavailableError(f"Redis at {self._where}: {exc}") from exc


def _events(entries: Sequence[tuple[bytes, dict[bytes, bytes]]]) -> list[StoredEvent]:
    """Stream entries ``(b"0-{seq}", {b"k": kind, b"d": payload})`` as stored events."""
    return [
        StoredEvent(int(entry_id.partition(b"-")[2]), fields[b"k"].decode(), fields[b"d"].decode())
        for entry_id, fields in entries
    ]


def _digest(text: str) -> str:
    """A fixed-length, ASCII key part for any id, however long or non-ASCII."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
