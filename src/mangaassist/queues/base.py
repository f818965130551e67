"""The queue port: durable queues with the semantics of Amazon SQS.

Standard queues deliver at least once, in roughly the order sent; FIFO queues (names ending in
``.fifo``) keep order within a message group, have at most one message of a group in flight, and
drop a duplicate sent again within five minutes. A received message is hidden for its visibility
timeout; if it is not deleted by then it becomes visible again with its receive count one higher,
and once that count passes the redrive policy's ``max_receive_count`` the message moves to the
dead-letter queue instead of being delivered again.

``QueueBackend`` checks every argument the way SQS does (with the same limits and clear errors)
and hands valid requests to a backend's private methods, so every backend fails the same way.
"""

from __future__ import annotations

import hashlib
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "DEDUP_WINDOW_S",
    "DLQ_ATTRIBUTE_PREFIX",
    "DLQ_RECEIVE_COUNT_ATTRIBUTE",
    "DLQ_SOURCE_ATTRIBUTE",
    "MAX_BATCH",
    "MAX_DELAY_S",
    "MAX_WAIT_S",
    "BatchEntry",
    "BatchResult",
    "InvalidParameterError",
    "MessageTooLargeError",
    "QueueAttributes",
    "QueueBackend",
    "QueueConfig",
    "QueueDoesNotExistError",
    "QueueError",
    "ReceiptHandleInvalidError",
    "ReceivedMessage",
    "RedrivePolicy",
    "content_dedup_id",
]

#: SQS limits, with their meaning in the names.
MAX_BATCH = 10  # entries per send_batch / delete_batch, messages per receive
MAX_WAIT_S = 20.0  # longest long poll
MAX_DELAY_S = 900.0  # longest per-message or queue delay (15 minutes)
MAX_VISIBILITY_S = 43_200.0  # longest visibility timeout (12 hours)
DEDUP_WINDOW_S = 300.0  # FIFO deduplication window (5 minutes)
MAX_ID_LENGTH = 128  # message group ids, deduplication ids, batch entry ids
DEFAULT_MAX_MESSAGE_BYTES = 262_144  # 256 KiB (SQS now allows 1 MiB; a queue setting)
MAX_BATCH_BYTES = 1_048_576  # all entries of one send_batch together

#: Attributes a message gets when it moves to a dead-letter queue. Attributes starting with
#: ``dlq.`` describe a stay there (the worker adds ``dlq.reason`` and others), so a redrive
#: removes them all: the message goes back as it was sent.
DLQ_ATTRIBUTE_PREFIX = "dlq."
DLQ_SOURCE_ATTRIBUTE = "dlq.source"
DLQ_RECEIVE_COUNT_ATTRIBUTE = "dlq.receive_count"


class QueueError(Exception):
    """A request a queue refuses; ``code`` is the SQS error name."""

    code = "QueueError"


class QueueDoesNotExistError(QueueError):
    code = "AWS.SimpleQueueService.NonExistentQueue"


class InvalidParameterError(QueueError):
    code = "InvalidParameterValue"


class MessageTooLargeError(InvalidParameterError):
    code = "InvalidParameterValue"


class ReceiptHandleInvalidError(QueueError):
    code = "ReceiptHandleIsInvalid"


@dataclass(frozen=True, slots=True)
class RedrivePolicy:
    """After ``max_receive_count`` receives without a delete, a message moves to ``dead_letter``."""

    dead_letter: str
    max_receive_count: int = 3


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue's settings."""

    name: str
    visibility_timeout_s: float = 30.0
    retention_s: float = 4 * 86_400.0
    delay_s: float = 0.0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    receive_wait_s: float = 0.0
    redrive: RedrivePolicy | None = None
    content_based_dedup: bool = False

    @property
    def fifo(self) -> bool:
        """FIFO queues are named ``*.fifo``, as in SQS."""
        return self.name.endswith(".fifo")


@dataclass(frozen=True, slots=True)
class BatchEntry:
    """One message of ``send_batch``; ``id`` names it in the results (unique in the batch)."""

    id: str
    body: str
    delay_s: float | None = None
    group_id: str | None = None
    dedup_id: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The outcome of one batch entry: a message id, or an error with its SQS code."""

    id: str
    message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        """True when the entry succeeded."""
        return self.error_code is None


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A delivered message; delete it with ``receipt_handle`` once its work is done."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    sent_at: datetime
    attributes: Mapping[str, str] = field(default_factory=dict)
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True, slots=True)
class QueueAttributes:
    """Approximate counts, as SQS reports them."""

    visible: int
    in_flight: int
    delayed: int
    oldest_age_s: float


def content_dedup_id(body: str) -> str:
    """The deduplication id of content-based deduplication: SHA-256 of the body."""
    return hashlib.sha256(body.encode()).hexdigest()


def _check_id(value: str | None, what: str) -> None:
    if value is None:
        return
    if not value or len(value) > MAX_ID_LENGTH or not value.isascii() or not value.isprintable():
        raise InvalidParameterError(f"{what} must be 1-{MAX_ID_LENGTH} printable ASCII characters")


def _check_seconds(value: float, limit: float, what: str) -> None:
    if not math.isfinite(value) or value < 0 or value > limit:
        raise InvalidParameterError(f"{what} must be between 0 and {limit:g} seconds")


class QueueBackend(ABC):
    """The queue port. Public methods validate like SQS; backends implement ``_``-methods."""

    backend: str

    def __init__(self) -> None:
        self._configs: dict[str, QueueConfig] = {}

    # -- queues --------------------------------------------------------------------------------

    async def create_queue(self, config: QueueConfig) -> None:
        """Create the queue, or update its settings if it exists (idempotent)."""
        _check_seconds(config.visibility_timeout_s, MAX_VISIBILITY_S, "visibility timeout")
        _check_seconds(config.delay_s, MAX_DELAY_S, "delay")
        _check_seconds(config.receive_wait_s, MAX_WAIT_S, "receive wait")
        if not 1024 <= config.max_message_bytes <= 1_048_576:
            raise InvalidParameterError("max message size must be 1 KiB to 1 MiB")
        if config.redrive is not None:
            if config.redrive.max_receive_count < 1:
                raise InvalidParameterError("max receive count must be at least 1")
            # SQS refuses a redrive policy naming a missing queue or one of the other type.
            target = await self._load_config(config.redrive.dead_letter)
            if target is None:
                raise QueueDoesNotExistError(f"queue {config.redrive.dead_letter!r} does not exist")
            if target.fifo != config.fifo:
                raise InvalidParameterError("a dead-letter queue must be of its source's type")
        await self._create_queue(config)
        self._configs[config.name] = config

    async def config(self, queue: str) -> QueueConfig:
        """The queue's settings (from this process's cache, else the backend)."""
        known = self._configs.get(queue)
        if known is None:
            known = await self._load_config(queue)
            if known is None:
                raise QueueDoesNotExistError(f"queue {queue!r} does not exist")
            self._configs[queue] = known
        return known

    async def list_queues(self) -> list[str]:
        """Names of every queue."""
        return sorted(await self._list_queues())

    # -- sending -------------------------------------------------------------------------------

    async def send(
        self,
        queue: str,
        body: str,
        *,
        delay_s: float | None = None,
        group_id: str | None = None,
        dedup_id: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> str:
        """Send one message; returns its id (a duplicate FIFO send returns the first id)."""
        [result] = await self.send_batch(
            queue,
            [BatchEntry("0", body, delay_s, group_id, dedup_id, dict(attributes or {}))],
        )
        if result.message_id is None:
            raise _error_for(result)
        return result.message_id

    async def send_batch(self, queue: str, entries: Sequence[BatchEntry]) -> list[BatchResult]:
        """Send up to 10 messages; a result per entry, in order (entries fail independently)."""
        config = await self.config(queue)
        if not entries:
            raise InvalidParameterError("a batch needs at least one entry")
        if len(entries) > MAX_BATCH:
            raise InvalidParameterError(f"a batch has at most {MAX_BATCH} entries")
        ids = [entry.id for entry in entries]
        for entry_id in ids:
            _check_id(entry_id, "batch entry id")
        if len(set(ids)) != len(ids):
            raise InvalidParameterError("batch entry ids must be distinct")
        total = sum(len(entry.body.encode()) for entry in entries)
        if total > MAX_BATCH_BYTES:  # a too-large single entry fails alone, below
            raise MessageTooLargeError(f"the batch is {total} bytes; at most {MAX_BATCH_BYTES}")
        results: list[BatchResult | None] = []
        valid: list[tuple[int, BatchEntry]] = []
        for position, entry in enumerate(entries):
            problem = self._entry_problem(config, entry)
            if problem is None:
                results.append(None)
                valid.append((position, self._normalized(config, entry)))
            else:
                results.append(BatchResult(entry.id, None, problem.code, str(problem)))
        if valid:
            sent = await self._send(config, [entry for _, entry in valid])
            for (position, entry), message_id in zip(valid, sent, strict=True):
                results[position] = BatchResult(entry.id, message_id)
        return [r for r in results if r is not None]

    def _entry_problem(self, config: QueueConfig, entry: BatchEntry) -> QueueError | None:
        size = len(entry.body.encode())
        if size > config.max_message_bytes:
            return MessageTooLargeError(
                f"the message is {size} bytes; the queue accepts at most {config.max_message_bytes}"
            )
        if not entry.body:
            return InvalidParameterError("the message body must not be empty")
        try:
            _check_id(entry.group_id, "message group id")
            _check_id(entry.dedup_id, "deduplication id")
            if entry.delay_s is not None:
                _check_seconds(entry.delay_s, MAX_DELAY_S, "delay")
        except QueueError as exc:
            return exc
        if config.fifo:
            if entry.group_id is None:
                return InvalidParameterError("FIFO queues need a message group id")
            if entry.delay_s is not None:
                return InvalidParameterError(
                    "FIFO queues have no per-message delay; set the queue's delay instead"
                )
            if entry.dedup_id is None and not config.content_based_dedup:
                return InvalidParameterError(
                    "FIFO queues need a deduplication id (or content-based deduplication)"
                )
        elif entry.group_id is not None or entry.dedup_id is not None:
            return InvalidParameterError("group and deduplication ids are for FIFO queues only")
        return None

    @staticmethod
    def _normalized(config: QueueConfig, entry: BatchEntry) -> BatchEntry:
        delay = entry.delay_s if entry.delay_s is not None else config.delay_s
        dedup = entry.dedup_id
        if config.fifo and dedup is None:
            dedup = content_dedup_id(entry.body)
        return BatchEntry(entry.id, entry.body, delay, entry.group_id, dedup, entry.attributes)

    # -- receiving -----------------------------------------------------------------------------

    async def receive(
        self,
        queue: str,
        *,
        max_messages: int = 1,
        wait_s: float | None = None,
        visibility_timeout_s: float | None = None,
    ) -> list[ReceivedMessage]:
        """Up to ``max_messages`` (1-10) visible messages, waiting up to ``wait_s`` (0-20 s)."""
        config = await self.config(queue)
        if not 1 <= max_messages <= MAX_BATCH:
            raise InvalidParameterError(f"max messages must be 1 to {MAX_BATCH}")
        wait = config.receive_wait_s if wait_s is None else wait_s
        _check_seconds(wait, MAX_WAIT_S, "wait time")
        visibility = (
            config.visibility_timeout_s if visibility_timeout_s is None else visibility_timeout_s
        )
        _check_seconds(visibility, MAX_VISIBILITY_S, "visibility timeout")
        return await self._receive(config, max_messages, wait, visibility)

    async def delete(self, queue: str, receipt_handle: str) -> None:
        """Delete a received message (its work is done)."""
        [result] = await self.delete_batch(queue, [receipt_handle])
        if not result.ok:
            raise _error_for(result)

    async def delete_batch(self, queue: str, receipt_handles: Sequence[str]) -> list[BatchResult]:
        """Delete up to 10 messages; a result per handle (ids are the handles' positions)."""
        config = await self.config(queue)
        if not receipt_handles or len(receipt_handles) > MAX_BATCH:
            raise InvalidParameterError(f"a batch has 1 to {MAX_BATCH} entries")
        outcomes = await self._delete(config, list(receipt_handles))
        return [
            BatchResult(str(i), None, None, None)
            if ok
            else BatchResult(str(i), None, ReceiptHandleInvalidError.code, "unknown receipt handle")
            for i, ok in enumerate(outcomes)
        ]

    async def change_visibility(self, queue: str, receipt_handle: str, timeout_s: float) -> None:
        """Hide a received message for ``timeout_s`` from now (a heartbeat for long jobs)."""
        config = await self.config(queue)
        _check_seconds(timeout_s, MAX_VISIBILITY_S, "visibility timeout")
        if not await self._change_visibility(config, receipt_handle, timeout_s):
            raise ReceiptHandleInvalidError("the message is not in flight with this handle")

    async def purge(self, queue: str) -> None:
        """Delete every message of the queue."""
        await self._purge(await self.config(queue))

    async def attributes(self, queue: str) -> QueueAttributes:
        """Visible, in-flight and delayed counts and the age of the oldest message."""
        return await self._attributes(await self.config(queue))

    async def redrive(self, dead_letter: str, *, to: str, max_messages: int | None = None) -> int:
        """Move messages from a dead-letter queue back to ``to``; return how many moved."""
        if max_messages is not None and max_messages < 1:
            raise InvalidParameterError("max messages must be at least 1")
        source = await self.config(dead_letter)
        target = await self.config(to)
        if source.fifo != target.fifo:
            raise InvalidParameterError("redrive between a FIFO and a standard queue")
        return await self._redrive(source, target, max_messages)

    async def close(self) -> None:  # noqa: B027 - optional: backends without connections keep it
        """Release connections."""

    # -- what a backend implements ---------------------------------------------------------------

    @abstractmethod
    async def _create_queue(self, config: QueueConfig) -> None: ...

    @abstractmethod
    async def _load_config(self, queue: str) -> QueueConfig | None: ...

    @abstractmethod
    async def _list_queues(self) -> list[str]: ...

    @abstractmethod
    async def _send(self, config: QueueConfig, entries: list[BatchEntry]) -> list[str]:
        """Store valid, normalized entries (delay and FIFO dedup id filled in); message ids."""

    @abstractmethod
    async def _receive(
        self, config: QueueConfig, max_messages: int, wait_s: float, visibility_s: float
    ) -> list[ReceivedMessage]: ...

    @abstractmethod
    async def _delete(self, config: QueueConfig, receipt_handles: list[str]) -> list[bool]: ...

    @abstractmethod
    async def _change_visibility(
        self, config: QueueConfig, receipt_handle: str, timeout_s: float
    ) -> bool: ...

    @abstractmethod
    async def _purge(self, config: QueueConfig) -> None: ...

    @abstractmethod
    async def _attributes(self, config: QueueConfig) -> QueueAttributes: ...

    @abstractmethod
    async def _redrive(
        self, source: QueueConfig, target: QueueConfig, max_messages: int | None
    ) -> int: ...


def _error_for(result: BatchResult) -> QueueError:
    message = result.error_message or "the request failed"
    if result.error_code == ReceiptHandleInvalidError.code:
        return ReceiptHandleInvalidError(message)
    if "bytes" in message:
        return MessageTooLargeError(message)
    return InvalidParameterError(message)
