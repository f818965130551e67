"""The delta buffer port and its embedded backend: an answer's events, kept for resuming.

The design documents' mobile incident: Japanese carriers drop idle TCP after 30 s and iOS Safari
kills background tabs, so customers on trains lose the chat connection mid-answer. Generation
carries on; the buffer keeps each message's numbered events (``delta`` ... then one final
``done``, ``error`` or ``cancelled``) for a resume window, so a client that reconnects, to any
API process, sends ``resume {messageId, afterSeq}`` and receives every missing event exactly once.

The base class owns what every backend shares: argument checks, JSON encoding, the per-message
limits a single event may not pass, and ``follow`` (buffered events, then live ones, exactly
once). A backend stores and moves encoded events through a handful of private methods.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import NamedTuple, Self

__all__ = [
    "DEFAULT_IDLE_TIMEOUT_S",
    "DEFAULT_MAX_BYTES_PER_MESSAGE",
    "DEFAULT_MAX_EVENTS_PER_MESSAGE",
    "DEFAULT_MAX_MESSAGES",
    "DEFAULT_WINDOW_S",
    "EVENT_KINDS",
    "FINAL_KINDS",
    "Backlog",
    "BufferFullError",
    "BufferUnavailableError",
    "BufferedEvent",
    "ClosedMessageError",
    "DeltaBuffer",
    "MemoryDeltaBuffer",
    "MessageExistsError",
    "StoredEvent",
    "UnknownMessageError",
]

#: The client's reconnect schedule (0.5 s doubling to 10 s, 10 attempts: about 66 s in all)
#: ends well inside two minutes, so a customer who gets back online at all can still resume.
DEFAULT_WINDOW_S = 120.0

#: A model that streamed nothing for 30 s has stalled; a follower stops instead of hanging on.
DEFAULT_IDLE_TIMEOUT_S = 30.0

#: Per-message bounds: a runaway generation cannot take the buffer's memory for itself.
DEFAULT_MAX_EVENTS_PER_MESSAGE = 10_000
DEFAULT_MAX_BYTES_PER_MESSAGE = 1024 * 1024

#: How many messages the embedded buffer holds at most.
DEFAULT_MAX_MESSAGES = 10_000

#: Every kind of event; all but ``delta`` end the message.
EVENT_KINDS = frozenset({"delta", "done", "error", "cancelled"})
FINAL_KINDS = EVENT_KINDS - {"delta"}


class UnknownMessageError(KeyError):
    """The message was never opened, or its resume window has passed (or it was evicted)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class MessageExistsError(ValueError):
    """``open`` was called for a message id that is already buffered."""


class ClosedMessageError(RuntimeError):
    """An event was appended after the message's final event."""


class BufferFullError(RuntimeError):
    """The event would take the message past its event-count or byte limit."""


class BufferUnavailableError(RuntimeError):
    """The buffer's backend cannot be reached."""


@dataclass(frozen=True, slots=True)
class BufferedEvent:
    """One numbered event of a streamed answer, as a client receives it."""

    #: 1, 2, 3, ... within the message; the final event has a number too.
    seq: int
    #: ``delta``, ``done``, ``error`` or ``cancelled``.
    kind: str
    #: The JSON object sent with the event, e.g. ``{"text": "..."}`` for a delta.
    data: dict[str, object]

    @property
    def final(self) -> bool:
        """Whether this event ends the message (anything but a delta)."""
        return self.kind != "delta"


class StoredEvent(NamedTuple):
    """An event as a backend keeps it: its number, its kind and its data encoded as JSON."""

    seq: int
    kind: str
    payload: str


class Backlog(NamedTuple):
    """What a backend holds of a message past some number, handed to the base class."""

    #: Events after the number asked for, in order (possibly none).
    events: list[StoredEvent]
    #: The final event's number once the backend knows it was appended, else None.
    final_seq: int | None


class DeltaBuffer(ABC):
    """Each streamed message's numbered events, kept ``window_s`` after its last append.

    A message is opened, receives deltas and then exactly one final event; every append slides
    its window. Every method is safe to call from many asyncio tasks at once, and any number of
    followers may follow one message.

    Deltas may fill a message up to ``max_events_per_message`` events and
    ``max_bytes_per_message`` bytes of JSON data. The final event always fits after them
    provided its own data stays under the byte limit: a producer refused a delta can still end
    the message, so no follower waits for an end that cannot be stored.

    Args:
        window_s: How long a message and its events stay after its last append (or its open).
        max_events_per_message: How many deltas one message may hold.
        max_bytes_per_message: How many bytes of UTF-8 JSON data its deltas may hold together.
    """

    #: Short backend name for readiness and logs (``memory``, ``redis``).
    backend: str

    def __init__(
        self,
        *,
        window_s: float = DEFAULT_WINDOW_S,
        max_events_per_message: int = DEFAULT_MAX_EVENTS_PER_MESSAGE,
        max_bytes_per_message: int = DEFAULT_MAX_BYTES_PER_MESSAGE,
    ) -> None:
        _require_positive("window_s", window_s)
        if max_events_per_message < 1:
            raise ValueError(f"max_events_per_message must be at least 1: {max_events_per_message}")
        if max_bytes_per_message < 1:
            raise ValueError(f"max_bytes_per_message must be at least 1: {max_bytes_per_message}")
        self.window_s = window_s
        self.max_events_per_message = max_events_per_message
        self.max_bytes_per_message = max_bytes_per_message

    async def open(self, message_id: str, meta: dict[str, object]) -> None:
        """Start buffering ``message_id``, remembering ``meta`` (e.g. session and request ids).

        Raises:
            MessageExistsError: The message is already buffered.
            TypeError, ValueError: ``meta`` is not a JSON object.
        """
        await self._open(message_id, _encode(meta, "meta"))

    async def append(self, message_id: str, kind: str, data: dict[str, object]) -> int:
        """Add the next event of ``message_id`` and return its number (1 for the first).

        Raises:
            UnknownMessageError: The message is not buffered (never opened, expired, evicted).
            ClosedMessageError: The message already has its final event.
            BufferFullError: The event would pass the message's limits.
            ValueError: ``kind`` is not one of ``EVENT_KINDS``, or ``data`` is not valid JSON.
            TypeError: ``data`` is not a dict or holds something JSON cannot encode.
        """
        if kind not in EVENT_KINDS:
            raise ValueError(f"kind must be one of {sorted(EVENT_KINDS)}, not {kind!r}")
        payload = _encode(data, "data")
        size = len(payload.encode())
        if size > self.max_bytes_per_message:
            raise BufferFullError(
                f"message {message_id!r}: a {size}-byte {kind} event exceeds the "
                f"{self.max_bytes_per_message}-byte limit"
            )
        return await self._append(message_id, kind, payload, size)

    async def meta(self, message_id: str) -> dict[str, object] | None:
        """The ``meta`` the message was opened with; None when unknown or expired."""
        payload = await self._meta(message_id)
        return None if payload is None else _decode(payload)

    async def read(self, message_id: str, after_seq: int = 0) -> list[BufferedEvent]:
        """The events buffered now with a number above ``after_seq``, in order.

        Raises:
            UnknownMessageError: The message is not buffered, so an empty answer would lie.
        """
        _require_seq(after_seq)
        backlog = await self._events_after(message_id, after_seq, 0.0)
        if backlog is None:
            raise _unknown(message_id)
        return [_to_event(stored) for stored in backlog.events if stored.seq > after_seq]

    def follow(
        self,
        message_id: str,
        after_seq: int = 0,
        *,
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    ) -> AsyncIterator[BufferedEvent]:
        """Every event numbered above ``after_seq`` exactly once: buffered ones, then live ones.

        Iteration ends after the final event, or at once when the final event is at or below
        ``after_seq`` (the client already has the whole answer).

        Raises (while iterating):
            UnknownMessageError: The message is not buffered when following starts, or leaves
                the buffer (expiry, eviction) while followed.
            TimeoutError: No new event arrived for ``idle_timeout_s`` seconds.
        """
        _require_seq(after_seq)
        _require_positive("idle_timeout_s", idle_timeout_s)
        return self._follow(message_id, after_seq, idle_timeout_s)

    async def alias(self, key: str, message_id: str) -> str:
        """Map ``key`` to ``message_id`` unless it maps to one already; return the mapped id.

        A client's retry of the same question (same ``clientMessageId``) thus finds the answer
        already being generated instead of starting a second one. The mapping lasts ``window_s``
        from when it was stored.
        """
        if not key:
            raise ValueError("alias key must not be empty")
        return await self._alias(key, message_id)

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``BufferUnavailableError`` if the backend cannot be reached."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; the buffer is not used afterwards."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _follow(
        self, message_id: str, after_seq: int, idle_timeout_s: float
    ) -> AsyncIterator[BufferedEvent]:
        loop = asyncio.get_running_loop()
        last = after_seq  # the number delivered last: nothing at or below it is sent again
        idle_since = loop.time()
        while True:
            remaining = idle_timeout_s - (loop.time() - idle_since)
            if remaining <= 0:
                raise TimeoutError(f"message {message_id!r}: no new event in {idle_timeout_s} s")
            backlog = await self._events_after(message_id, last, remaining)
            if backlog is None:
                raise _unknown(message_id)
            fresh = [stored for stored in backlog.events if stored.seq > last]
            for stored in fresh:
                event = _to_event(stored)
                yield event
                last = event.seq
                if event.final:
                    return
            if fresh:
                idle_since = loop.time()  # idle time counts waits for events, not the consumer
            elif backlog.final_seq is not None and last >= backlog.final_seq:
                return

    def _full(self, message_id: str, *, by_count: bool) -> BufferFullError:
        """The error for a delta refused because the message reached one of its limits."""
        limit = (
            f"{self.max_events_per_message} events"
            if by_count
            else f"{self.max_bytes_per_message} bytes"
        )
        return BufferFullError(f"message {message_id!r} would pass its limit of {limit}")

    @abstractmethod
    async def _open(self, message_id: str, meta: str) -> None: ...

    @abstractmethod
    async def _append(self, message_id: str, kind: str, payload: str, size: int) -> int:
        """Store the event atomically: number it, enforce the limits, slide the window."""

    @abstractmethod
    async def _meta(self, message_id: str) -> str | None: ...

    @abstractmethod
    async def _events_after(self, message_id: str, after_seq: int, wait_s: float) -> Backlog | None:
        """Events numbered above ``after_seq``; None when the message is not buffered.

        With none yet and ``wait_s`` > 0, wait until one is appended, for up to ``wait_s``
        (a backend may return sooner, even empty-handed; the caller asks again).
        """

    @abstractmethod
    async def _alias(self, key: str, message_id: str) -> str: ...


def _encode(value: dict[str, object], what: str) -> str:
    """Compact JSON text of a dict; strict JSON (no NaN), non-ASCII kept as is."""
    if not isinstance(value, dict):
        raise TypeError(f"{what} must be a dict (a JSON object), not {type(value).__name__}")
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _decode(payload: str) -> dict[str, object]:
    decoded: dict[str, object] = json.loads(payload)
    return decoded


def _to_event(stored: StoredEvent) -> BufferedEvent:
    return BufferedEvent(stored.seq, stored.kind, _decode(stored.payload))


def _unknown(message_id: str) -> UnknownMessageError:
    return UnknownMessageError(f"message {message_id!r} is not buffered (unknown or expired)")


def _require_seq(after_seq: int) -> None:
    if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
        raise ValueError(f"after_seq must be an event number >= 0, not {after_seq!r}")


def _require_positive(name: str, seconds: float) -> None:
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{name} must be a positive number of seconds, not {seconds!r}")


@dataclass(slots=True, eq=False)
class _Message:
    meta: str
    expires_at: float
    events: list[StoredEvent] = field(default_factory=list)  # events[i].seq == i + 1
    delta_bytes: int = 0
    final_seq: int | None = None
    gone: bool = False  # dropped from the buffer: followers stop
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self) -> None:
        """Wake every follower waiting now; later waiters wait on a fresh event."""
        self.wakeup.set()
        self.wakeup = asyncio.Event()


class MemoryDeltaBuffer(DeltaBuffer):
    """The embedded delta buffer: one process, no service needed, bounded in memory.

    Messages are kept in order of their last append, which (one window for all) is also the
    order they expire in: expired messages are dropped lazily when touched and all at once on
    ``open``. Past ``max_messages`` the oldest finished message goes first, then the oldest
    unfinished one (its producer's next append raises ``UnknownMessageError``). Aliases are
    bounded by ``max_messages`` as well. Followers wait on a per-message ``asyncio.Event``
    that every append (and removal) sets, so waiting costs no polling.

    No method awaits except a follower's wait, so each operation is atomic for asyncio tasks.
    The buffer is not meant to be shared between threads.

    Args:
        window_s: How long a message stays after its last append.
        max_messages: How many messages (and aliases) the buffer holds at most.
        max_events_per_message: How many deltas one message may hold.
        max_bytes_per_message: How many bytes of JSON data one message's deltas may hold.
        clock: Seconds on a monotonic clock; tests inject a fake one to expire messages.
    """

    backend = "memory"

    def __init__(
        self,
        window_s: float = DEFAULT_WINDOW_S,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        *,
        max_events_per_message: int = DEFAULT_MAX_EVENTS_PER_MESSAGE,
        max_bytes_per_message: int = DEFAULT_MAX_BYTES_PER_MESSAGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            window_s=window_s,
            max_events_per_message=max_events_per_message,
            max_bytes_per_message=max_bytes_per_message,
        )
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, not {max_messages}")
        self._max_messages = max_messages
        self._clock = clock
        self._messages: OrderedDict[str, _Message] = OrderedDict()  # least recently appended first
        self._finished: OrderedDict[str, None] = OrderedDict()  # oldest final event first
        self._aliases: OrderedDict[str, tuple[str, float]] = OrderedDict()  # oldest first

    def __len__(self) -> int:
        """How many messages are held, counting expired ones not dropped yet (for a gauge)."""
        return len(self._messages)

    async def _open(self, message_id: str, meta: str) -> None:
        now = self._clock()
        self._drop_expired(now)
        if message_id in self._messages:
            raise MessageExistsError(f"message {message_id!r} is already buffered")
        while len(self._messages) >= self._max_messages:
            self._drop(next(iter(self._finished or self._messages)))
        self._messages[message_id] = _Message(meta, now + self.window_s)

    async def _append(self, message_id: str, kind: str, payload: str, size: int) -> int:
        now = self._clock()
        message = self._live(message_id, now)
        if message is None:
            raise _unknown(message_id)
        if message.final_seq is not None:
            raise ClosedMessageError(f"message {message_id!r} already ended")
        seq = len(message.events) + 1
        if kind in FINAL_KINDS:
            message.final_seq = seq
            self._finished[message_id] = None
        elif seq > self.max_events_per_message:
            raise self._full(message_id, by_count=True)
        elif message.delta_bytes + size > self.max_bytes_per_message:
            raise self._full(message_id, by_count=False)
        else:
            message.delta_bytes += size
        message.events.append(StoredEvent(seq, kind, payload))
        message.expires_at = now + self.window_s
        self._messages.move_to_end(message_id)
        message.notify()
        return seq

    async def _meta(self, message_id: str) -> str | None:
        message = self._live(message_id, self._clock())
        return None if message is None else message.meta

    async def _events_after(self, message_id: str, after_seq: int, wait_s: float) -> Backlog | None:
        message = self._live(message_id, self._clock())
        if message is None:
            return None
        if len(message.events) <= after_seq and message.final_seq is None and wait_s > 0:
            wakeup = message.wakeup  # taken before awaiting: no append can slip in between
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s):
                    await wakeup.wait()
            if message.gone:
                return None
        return Backlog(message.events[after_seq:], message.final_seq)

    async def _alias(self, key: str, message_id: str) -> str:
        now = self._clock()
        while self._aliases and next(iter(self._aliases.values()))[1] <= now:
            self._aliases.popitem(last=False)
        held = self._aliases.get(key)
        if held is not None:
            return held[0]
        self._aliases[key] = (message_id, now + self.window_s)
        while len(self._aliases) > self._max_messages:
            self._aliases.popitem(last=False)
        return message_id

    async def ping(self) -> None:
        """Always reachable: the buffer lives in this process."""

    async def close(self) -> None:
        """Drop every message, ending their followers with ``UnknownMessageError``."""
        for message_id in list(self._messages):
            self._drop(message_id)
        self._aliases.clear()

    def _live(self, message_id: str, now: float) -> _Message | None:
        """The message if it is held and its window has not passed (else dropped now)."""
        message = self._messages.get(message_id)
        if message is not None and message.expires_at <= now:
            self._drop(message_id)
            return None
        return message

    def _drop(self, message_id: str) -> None:
        message = self._messages.pop(message_id)
        self._finished.pop(message_id, None)
        message.gone = True
        message.notify()

    def _drop_expired(self, now: float) -> None:
        """Drop expired messages from the front: last-append order is expiry order."""
        while self._messages:
            message_id, message = next(iter(self._messages.items()))
            if message.expires_at > now:
                break
            self._drop(message_id)
