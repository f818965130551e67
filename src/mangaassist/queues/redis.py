"""Queues on Redis Streams: a stream per queue, read through a consumer group, with SQS semantics.

A receive ``XCLAIM``s the delivered messages whose visibility timeout has passed and reads new
ones with ``XREADGROUP``; a sorted set of deadlines makes the timeout per message (and lets a
heartbeat move it), and a receipt handle ``"<entry id>.<token>"`` goes stale when a later receive
takes the message. Delayed messages and the messages behind a FIFO group's head wait in a second
stream until they are due. Every operation is one Lua script (``redis_layout`` has the layout
and the rules), so concurrent clients never share a message and a client killed at any moment
leaves no half-moved one: its messages come back when their timeout passes.

Time comes from ``clock`` (tests inject a fake one): it is passed to every script, so Redis's
own clock only names stream entries. Long polls wait in real time, blocked on the queue's wake
stream.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from mangaassist.queues.base import (
    DEDUP_WINDOW_S,
    BatchEntry,
    QueueAttributes,
    QueueBackend,
    QueueConfig,
    ReceivedMessage,
)
from mangaassist.queues.redis_layout import (
    ATTRIBUTE_PREFIX,
    BODY,
    DEDUP_ID,
    GROUP_ID,
    MESSAGE_ID,
    SENT_AT,
)
from mangaassist.queues.redis_scripts import (
    ATTRIBUTES,
    CHANGE_VISIBILITY,
    CREATE,
    DELETE,
    PURGE,
    RECEIVE,
    REDRIVE,
    SEND,
)
from mangaassist.queues.sqlite_schema import dump_config, load_config
from mangaassist.redis_support import UNREACHABLE, redis_client, without_credentials

__all__ = ["DEFAULT_NAMESPACE", "REDIS_TIMEOUT_S", "RedisQueue"]

DEFAULT_NAMESPACE = "mangaassist:queues"
#: Connect and command timeout. A script takes milliseconds; a long poll blocks for at most
#: POLL_MAX_S per command, well inside it.
REDIS_TIMEOUT_S = 5.0
#: An idle long poll blocks on the wake stream, which every send and release signals; it looks
#: again at least this often for messages that become visible by time alone (timeouts, delays)
#: when the next due time is unknown or on another clock.
POLL_MAX_S = 1.0
POLL_MIN_S = 0.005
#: Messages one redrive script moves before the next call continues (bounds a script's time).
REDRIVE_CHUNK = 500

_ENTRY_ID = re.compile(rb"\d+-\d+")
#: What the scripts take: times travel as ``repr`` strings, exact to the last bit.
_Args = list[str | bytes | int]


class RedisQueue(QueueBackend):
    """Every queue of a namespace on one Redis, shared by every client that uses the namespace.

    Args:
        url: A redis-py URL: ``redis://host:6379/0``, ``rediss://...`` or ``unix:///path``.
        namespace: Prefix of every key; tests use one each and delete ``{namespace}:*``.
        clock: Time of sends, delays, visibility timeouts and retention (tests inject a fake
            one); every client of a namespace should use the same time.
        timeout_s: Connect and command timeout (at least 2 s: a long poll blocks for up to
            ``POLL_MAX_S`` per command).

    An unreachable Redis raises ``ConnectionError`` (an ``OSError``, which the worker takes
    for "the backend is away": it waits and tries again).
    """

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        clock: Callable[[], float] = time.time,
        timeout_s: float = REDIS_TIMEOUT_S,
    ) -> None:
        super().__init__()
        if not namespace:
            raise ValueError("namespace must not be empty")
        self.namespace = namespace
        self._clock = clock
        self._where = without_credentials(url)
        self._unreachable = UNREACHABLE()
        self._client = redis_client(url, timeout_s=max(timeout_s, 2 * POLL_MAX_S))
        self._configs_key = f"{namespace}:configs"
        register = self._client.register_script
        self._create_script = register(CREATE)
        self._send_script = register(SEND)
        self._receive_script = register(RECEIVE)
        self._delete_script = register(DELETE)
        self._change_visibility_script = register(CHANGE_VISIBILITY)
        self._purge_script = register(PURGE)
        self._attributes_script = register(ATTRIBUTES)
        self._redrive_script = register(REDRIVE)

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Turn redis-py's connection and timeout errors into ``ConnectionError``."""
        try:
            yield
        except self._unreachable as exc:
            raise ConnectionError(f"Redis at {self._where}: {exc}") from exc

    def _prefix(self, queue: str) -> str:
        escaped = queue.replace("%", "%25").replace(":", "%3A")
        return f"{self.namespace}:queue:{escaped}:"

    # -- queues --------------------------------------------------------------------------------

    async def _create_queue(self, config: QueueConfig) -> None:
        with self._reachable():
            await self._create_script(
                args=[
                    self._configs_key,
                    config.name,
                    dump_config(config),
                    self._prefix(config.name),
                ]
            )

    async def _load_config(self, queue: str) -> QueueConfig | None:
        with self._reachable():
            settings = await self._client.hget(self._configs_key, queue)
        return None if settings is None else load_config(_text(settings))

    async def _list_queues(self) -> list[str]:
        with self._reachable():
            names = await self._client.hkeys(self._configs_key)
        return [_text(name) for name in names]

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, config: QueueConfig, entries: list[BatchEntry]) -> list[str]:
        now = self._clock()
        messages: list[list[object]] = []
        for entry in entries:
            message_id = str(uuid.uuid4())
            fields = [MESSAGE_ID, message_id, BODY, entry.body, SENT_AT, repr(now)]
            if entry.group_id is not None:
                fields += [GROUP_ID, entry.group_id]
            if entry.dedup_id is not None:
                fields += [DEDUP_ID, entry.dedup_id]
            for name, value in entry.attributes.items():
                fields += [ATTRIBUTE_PREFIX + name, value]
            group, dedup = entry.group_id or "", entry.dedup_id or ""
            messages.append([message_id, entry.delay_s or 0.0, group, dedup, fields])
        with self._reachable():
            message_ids = await self._send_script(
                args=[
                    self._prefix(config.name),
                    repr(now),
                    "1" if config.fifo else "0",
                    repr(now - DEDUP_WINDOW_S),
                    json.dumps(messages, ensure_ascii=False),
                ]
            )
        return [message_id.decode() for message_id in message_ids]

    # -- receiving -----------------------------------------------------------------------------

    async def _receive(
        self, config: QueueConfig, max_messages: int, wait_s: float, visibility_s: float
    ) -> list[ReceivedMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            messages, wake_id, next_due = await self._claim(config, max_messages, visibility_s)
            remaining = deadline - loop.time()
            if messages or remaining <= 0:
                return messages
            pause = min(remaining, POLL_MAX_S)
            if next_due is not None:
                pause = min(pause, max(next_due - self._clock(), POLL_MIN_S))
            # Returns at once if the wake stream moved since the claim: nothing is missed.
            with self._reachable():
                await self._client.xread(
                    {self._prefix(config.name) + "w": wake_id},
                    count=1,
                    block=max(1, round(pause * 1000)),
                )

    async def _claim(
        self, config: QueueConfig, limit: int, visibility_s: float
    ) -> tuple[list[ReceivedMessage], bytes, float | None]:
        """One receive script: the messages, the wake stream's last id, and the next due time."""
        now = self._clock()
        token = secrets.token_hex(8)
        redrive = config.redrive
        args: _Args = [
            self._prefix(config.name),
            repr(now),
            repr(now - config.retention_s),
            repr(config.delay_s),
            limit,
            repr(visibility_s),
            token,
            0 if redrive is None else redrive.max_receive_count,
            "" if redrive is None else self._prefix(redrive.dead_letter),
            config.name,
        ]
        with self._reachable():
            wake_id, next_due, delivered = await self._receive_script(args=args)
        messages = [
            _received(entry_id, count, fields, token)
            for entry_id, count, fields in json.loads(delivered)
        ]
        return messages, wake_id, float(next_due) if next_due else None

    async def _delete(self, config: QueueConfig, receipt_handles: list[str]) -> list[bool]:
        claims = [_parse_handle(handle) for handle in receipt_handles]
        valid = [claim for claim in claims if claim is not None]
        if not valid:
            return [False] * len(claims)
        now = self._clock()
        args: _Args = [
            self._prefix(config.name),
            repr(now),
            repr(now - config.retention_s),
            repr(config.delay_s),
            "1" if config.fifo else "0",
        ]
        for entry_id, token in valid:
            args += [entry_id, token]
        with self._reachable():
            deleted = iter(await self._delete_script(args=args))
        return [claim is not None and next(deleted) == 1 for claim in claims]

    async def _change_visibility(
        self, config: QueueConfig, receipt_handle: str, timeout_s: float
    ) -> bool:
        claim = _parse_handle(receipt_handle)
        if claim is None:
            return False
        now = self._clock()
        args: _Args = [self._prefix(config.name), *claim, repr(now), repr(now + timeout_s)]
        with self._reachable():
            changed = await self._change_visibility_script(args=args)
        return bool(changed == 1)

    async def _purge(self, config: QueueConfig) -> None:
        with self._reachable():
            await self._purge_script(args=[self._prefix(config.name)])

    async def _attributes(self, config: QueueConfig) -> QueueAttributes:
        now = self._clock()
        args = [
            self._prefix(config.name),
            repr(now),
            repr(now - config.retention_s),
            repr(config.delay_s),
        ]
        with self._reachable():
            total, in_flight, delayed, oldest = await self._attributes_script(args=args)
        age = max(0.0, now - float(oldest)) if oldest else 0.0
        return QueueAttributes(max(0, total - in_flight - delayed), in_flight, delayed, age)

    async def _redrive(
        self, source: QueueConfig, target: QueueConfig, max_messages: int | None
    ) -> int:
        moved, cursor, stop = 0, b"-", b""
        while cursor and (max_messages is None or moved < max_messages):
            left = REDRIVE_CHUNK if max_messages is None else max_messages - moved
            now = self._clock()
            args: _Args = [
                self._prefix(source.name),
                self._prefix(target.name),
                repr(now),
                repr(now - source.retention_s),
                repr(source.delay_s),
                min(left, REDRIVE_CHUNK),
                cursor,
                stop,
            ]
            with self._reachable():
                count, cursor, stop = await self._redrive_script(args=args)
            moved += int(count)
        return moved

    async def close(self) -> None:
        """Close the connections."""
        await self._client.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _parse_handle(handle: str) -> tuple[bytes, str] | None:
    """``(entry id, token)`` of a receipt handle, or None for anything this backend never issued."""
    entry_id, dot, token = handle.partition(".")
    raw = entry_id.encode("ascii", "replace")
    if not dot or not token or not _ENTRY_ID.fullmatch(raw):
        return None
    return raw, token


def _received(entry_id: str, count: int, fields: list[str], token: str) -> ReceivedMessage:
    values: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for i in range(0, len(fields), 2):
        name, value = fields[i], fields[i + 1]
        if name.startswith(ATTRIBUTE_PREFIX):
            attributes[name[len(ATTRIBUTE_PREFIX) :]] = value
        else:
            values[name] = value
    return ReceivedMessage(
        message_id=values[MESSAGE_ID],
        receipt_handle=f"{entry_id}.{token}",
        body=values[BODY],
        receive_count=int(count),
        sent_at=datetime.fromtimestamp(float(values[SENT_AT]), UTC),
        attributes=attributes,
        group_id=values.get(GROUP_ID),
        dedup_id=values.get(DEDUP_ID),
    )
