"""The worker: runs jobs from queues, concurrently, never losing one and never hiding a failure.

A job is a JSON message ``{"kind": ..., "id": ..., "payload": {...}}``. Handlers are registered
by kind with a timeout. The messages of one receive run concurrently; while a job runs, a
heartbeat keeps extending its visibility, so a long job is not handed to a second worker. The
outcome decides what happens to the message:

- success: deleted;
- ``TransientError`` / ``ThrottledError`` (and a timeout): left in the queue and hidden for a
  backoff with jitter, so it is retried later; the last try the redrive policy allows
  (``max_receive_count``) goes to the dead-letter queue with the failure and its reason;
- ``PermanentError`` (and a message that is not a job, or names no known kind): sent straight to
  the dead-letter queue with the reason, then deleted.

``stop()`` (SIGTERM) drains: no more receives, in-flight jobs finish, then ``run`` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from mangaassist.queues.base import (
    MAX_BATCH,
    MAX_VISIBILITY_S,
    QueueBackend,
    QueueError,
    ReceivedMessage,
)

__all__ = [
    "FailureClass",
    "Job",
    "JobRegistry",
    "PermanentError",
    "ThrottledError",
    "TransientError",
    "Worker",
    "job_body",
]

log = structlog.get_logger("mangaassist.worker")

#: Retry backoff of transient failures: base * 2^(receive count - 1), capped, with full jitter.
RETRY_BASE_S = 2.0
RETRY_MAX_S = 300.0
#: Longest wait a ``retry_after_s`` may ask for.
RETRY_AFTER_MAX_S = MAX_VISIBILITY_S  # 12 h: the webhook schedule's 10 h step fits


class TransientError(Exception):
    """Worth retrying as it is (a network blip, a locked row).

    ``retry_after_s``: when the dependency said when to come back (an HTTP ``Retry-After``),
    the job waits that long instead of the computed backoff (at most ``RETRY_AFTER_MAX_S``).
    """

    def __init__(self, *args: object, retry_after_s: float | None = None) -> None:
        super().__init__(*args)
        self.retry_after_s = retry_after_s


class ThrottledError(TransientError):
    """A dependency asked us to slow down: retried later, with backoff."""


class PermanentError(Exception):
    """Retrying cannot help (bad input, a deleted product): straight to the dead-letter queue.

    ``dead_letter`` parks it in that queue instead of the source queue's (an event target's
    own DLQ); ``attributes`` are added to the parked message (which rule, which target).
    """

    def __init__(
        self,
        *args: object,
        dead_letter: str | None = None,
        attributes: Mapping[str, str] | None = None,
        failure: str | None = None,
    ) -> None:
        super().__init__(*args)
        self.dead_letter = dead_letter
        self.attributes = dict(attributes or {})
        self.failure = failure


class FailureClass:
    """How a failure is classified in logs, metrics and the dead-letter attributes."""

    TRANSIENT = "transient"
    THROTTLED = "throttled"
    PERMANENT = "permanent"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class Job:
    """A job as a handler sees it."""

    kind: str
    id: str
    payload: Mapping[str, Any]
    receive_count: int
    queue: str


Handler = Callable[[Job], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Registration:
    handler: Handler
    timeout_s: float


@dataclass
class JobRegistry:
    """Handlers by job kind."""

    _handlers: dict[str, _Registration] = field(default_factory=dict)

    def register(self, kind: str, handler: Handler, *, timeout_s: float = 60.0) -> None:
        """Run ``handler`` for jobs of ``kind``, failing them as timeouts after ``timeout_s``."""
        self._handlers[kind] = _Registration(handler, timeout_s)

    def get(self, kind: str) -> _Registration | None:
        """The registration of a kind, if any."""
        return self._handlers.get(kind)


def job_body(kind: str, job_id: str, payload: Mapping[str, Any]) -> str:
    """The message body of a job."""
    return json.dumps({"kind": kind, "id": job_id, "payload": dict(payload)}, ensure_ascii=False)


@dataclass
class WorkerStats:
    """What a worker did, for tests, logs and metrics."""

    succeeded: int = 0
    retried: int = 0
    dead_lettered: int = 0


class _Acknowledger:
    """Deletes finished messages in batches: the jobs that finish in the same turn of the event
    loop share one ``delete_batch`` (up to 10) instead of a round trip each."""

    def __init__(self, backend: QueueBackend) -> None:
        self._backend = backend
        self._pending: dict[str, list[tuple[str, asyncio.Future[bool]]]] = {}
        self._flushes: set[asyncio.Task[None]] = set()

    def delete(self, queue: str, receipt_handle: str) -> asyncio.Future[bool]:
        """Delete soon; the future tells whether the handle was still valid."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        pending = self._pending.setdefault(queue, [])
        pending.append((receipt_handle, done))
        if len(pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush_soon, queue)
        elif len(pending) == MAX_BATCH:
            self._flush_soon(queue)
        return done

    def _flush_soon(self, queue: str) -> None:
        batch = self._pending.pop(queue, [])
        if batch:
            task = asyncio.create_task(self._flush(queue, batch))
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)

    async def _flush(self, queue: str, batch: list[tuple[str, asyncio.Future[bool]]]) -> None:
        try:
            results = await self._backend.delete_batch(queue, [handle for handle, _ in batch])
        except (QueueError, OSError) as exc:
            for _, done in batch:
                done.set_exception(exc)
            return
        for result, (_, done) in zip(results, batch, strict=True):
            done.set_result(result.ok)

    async def flush(self) -> None:
        """Wait for every pending delete."""
        for queue in list(self._pending):
            self._flush_soon(queue)
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)


class Worker:
    """Receives from ``queues`` in turn and runs up to ``concurrency`` jobs at a time."""

    def __init__(
        self,
        backend: QueueBackend,
        registry: JobRegistry,
        queues: Sequence[str],
        *,
        concurrency: int = 10,
        wait_s: float = 1.0,
        retry_base_s: float = RETRY_BASE_S,
        on_outcome: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self._backend = backend
        self._registry = registry
        self._queues = list(queues)
        self._concurrency = max(1, concurrency)
        self._wait_s = wait_s
        self._retry_base_s = retry_base_s
        self._on_outcome = on_outcome
        self._stopping = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._free = self._concurrency
        self._slot_freed = asyncio.Event()
        self._acks = _Acknowledger(backend)
        self.stats = WorkerStats()

    def stop(self) -> None:
        """Drain: receive nothing more; ``run`` returns once in-flight jobs finish."""
        self._stopping.set()
        self._slot_freed.set()  # wake receive loops waiting for a slot, so they see it

    @property
    def queues(self) -> list[str]:
        """The queues this worker takes jobs from."""
        return list(self._queues)

    @property
    def concurrency(self) -> int:
        """Most jobs run at once."""
        return self._concurrency

    @property
    def in_flight(self) -> int:
        """Jobs running now."""
        return len(self._running)

    async def run(self) -> None:
        """Work until ``stop()``: one receive loop per queue, all sharing ``concurrency``."""
        loops = [asyncio.create_task(self._receive_loop(queue)) for queue in self._queues]
        try:
            await asyncio.gather(*loops)
        finally:
            for loop in loops:
                loop.cancel()
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            await self._acks.flush()

    async def _reserve(self, most: int) -> int:
        """Wait for a free slot, then take up to ``most`` of the free ones (0 when stopping)."""
        while not self._stopping.is_set():
            if self._free > 0:
                taken = min(most, self._free)
                self._free -= taken
                return taken
            self._slot_freed.clear()
            await self._slot_freed.wait()
        return 0

    def _release(self, count: int) -> None:
        if count:
            self._free += count
            self._slot_freed.set()

    async def _receive_loop(self, queue: str) -> None:
        # While a long poll waits, it holds its slots: each loop takes at most its share, so an
        # idle queue never keeps a busy one from filling the worker.
        share = max(1, min(10, self._concurrency // len(self._queues)))
        stop = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                room = await self._reserve(share)
                if not room:
                    return
                messages = await self._receive(queue, room, stop)
                self._release(room - len(messages))
                for message in messages:  # concurrently, never one after another
                    task = asyncio.create_task(self._process(queue, message))
                    self._running.add(task)
                    task.add_done_callback(self._finished)
        finally:
            stop.cancel()

    async def _receive(
        self, queue: str, room: int, stop: asyncio.Task[bool]
    ) -> list[ReceivedMessage]:
        try:
            return await self._backend.receive(queue, max_messages=room, wait_s=self._wait_s)
        except QueueError:
            log.exception("receive_failed", queue=queue)
        except OSError as exc:  # the backend is unreachable: wait and try again
            log.warning("receive_failed", queue=queue, error=str(exc))
        await asyncio.wait([stop], timeout=1.0)
        return []

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._release(1)

    async def _process(self, queue: str, message: ReceivedMessage) -> None:
        config = await self._backend.config(queue)
        try:
            job = self._parse(queue, message)
        except PermanentError as exc:
            await self._dead_letter(queue, message, FailureClass.PERMANENT, str(exc), "?")
            return
        registration = self._registry.get(job.kind)
        if registration is None:
            reason = f"no handler for job kind {job.kind!r}"
            await self._dead_letter(queue, message, FailureClass.PERMANENT, reason, job.kind)
            return
        heartbeat = asyncio.create_task(
            self._heartbeat(queue, message, config.visibility_timeout_s)
        )
        started = time.perf_counter()
        try:
            async with asyncio.timeout(registration.timeout_s):
                await registration.handler(job)
        except PermanentError as exc:
            await self._dead_letter(
                queue, message, exc.failure or FailureClass.PERMANENT, str(exc), job.kind,
                to=exc.dead_letter, extra=exc.attributes,
            )  # fmt: skip
        except TimeoutError:
            reason = f"took longer than {registration.timeout_s:g} s"
            await self._retry(queue, message, FailureClass.TIMEOUT, job.kind, reason)
        except ThrottledError as exc:
            await self._retry(
                queue, message, FailureClass.THROTTLED, job.kind, str(exc), exc.retry_after_s
            )
        except TransientError as exc:
            log.warning("job_retried", kind=job.kind, job_id=job.id, queue=queue, error=str(exc))
            await self._retry(
                queue, message, FailureClass.TRANSIENT, job.kind, str(exc), exc.retry_after_s
            )
        except Exception as exc:  # transient by default: an unexpected error deserves another try
            log.exception("job_failed", kind=job.kind, job_id=job.id, queue=queue)
            reason = f"{type(exc).__name__}: {exc}"
            await self._retry(queue, message, FailureClass.TRANSIENT, job.kind, reason)
        else:
            heartbeat.cancel()
            try:
                deleted = await self._acks.delete(queue, message.receipt_handle)
            except (QueueError, OSError) as exc:  # it comes back after its visibility timeout
                log.warning("delete_failed", kind=job.kind, job_id=job.id, error=str(exc))
                return
            if deleted:
                self.stats.succeeded += 1
                self._outcome(job.kind, "succeeded", "")
            else:  # it outlived its visibility and was delivered again: ran twice
                log.warning("job_done_late", kind=job.kind, job_id=job.id, queue=queue)
                self._outcome(job.kind, "succeeded", "late")
            log.debug("job_done", kind=job.kind, ms=round((time.perf_counter() - started) * 1e3))
        finally:
            heartbeat.cancel()

    @staticmethod
    def _parse(queue: str, message: ReceivedMessage) -> Job:
        try:
            data = json.loads(message.body)
            return Job(
                kind=str(data["kind"]),
                id=str(data.get("id", message.message_id)),
                payload=dict(data.get("payload", {})),
                receive_count=message.receive_count,
                queue=queue,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentError(f"not a job message: {exc}") from None

    async def _heartbeat(self, queue: str, message: ReceivedMessage, visibility_s: float) -> None:
        """Keep extending visibility while the job runs (every third of the timeout)."""
        interval = max(0.5, visibility_s / 3)
        while True:
            await asyncio.sleep(interval)
            try:
                await self._backend.change_visibility(queue, message.receipt_handle, visibility_s)
            except QueueError:
                log.warning("heartbeat_failed", queue=queue, message_id=message.message_id)
                return

    async def _retry(
        self,
        queue: str,
        message: ReceivedMessage,
        failure: str,
        kind: str,
        reason: str,
        retry_after_s: float | None = None,
    ) -> None:
        config = await self._backend.config(queue)
        redrive = config.redrive
        if redrive is not None and message.receive_count >= redrive.max_receive_count:
            # The last try: park it with the reason now, rather than let the redrive policy
            # move it on its next receive with no word of what went wrong.
            await self._dead_letter(queue, message, failure, reason, kind)
            return
        await self._backoff(queue, message, failure, kind, retry_after_s)

    async def _backoff(
        self,
        queue: str,
        message: ReceivedMessage,
        failure: str,
        kind: str,
        retry_after_s: float | None = None,
    ) -> None:
        """Hide the message for a jittered, growing pause (or as long as the dependency asked):
        it is tried again after it."""
        if retry_after_s is not None and retry_after_s >= 0:
            delay = min(RETRY_AFTER_MAX_S, retry_after_s)
        else:
            ceiling = min(RETRY_MAX_S, self._retry_base_s * 2 ** (message.receive_count - 1))
            delay = random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
        with contextlib.suppress(QueueError):  # already visible again: retried anyway
            await self._backend.change_visibility(queue, message.receipt_handle, delay)
        self.stats.retried += 1
        self._outcome(kind, "retried", failure)

    async def _dead_letter(
        self,
        queue: str,
        message: ReceivedMessage,
        failure: str,
        reason: str,
        kind: str,
        *,
        to: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        config = await self._backend.config(queue)
        target = to or (config.redrive.dead_letter if config.redrive is not None else None)
        if target is None:  # nowhere to park it: leave it for the retention period
            log.error("permanent_failure_without_dlq", queue=queue, reason=reason)
            await self._backoff(queue, message, failure, kind)
            return
        try:
            dlq = await self._backend.config(target)
        except QueueError:  # a target's DLQ that does not exist: the queue's own, if any
            if config.redrive is None or target == config.redrive.dead_letter:
                raise
            log.error("dead_letter_queue_missing", queue=target, falling_back=config.redrive)
            dlq = await self._backend.config(config.redrive.dead_letter)
        attributes = {
            **message.attributes,
            **(extra or {}),
            "dlq.source": queue,
            "dlq.failure": failure,
            "dlq.reason": reason[:1000],
            "dlq.kind": kind,
            "dlq.receive_count": str(message.receive_count),
        }
        group = message.group_id if dlq.fifo else None
        dedup = f"{message.message_id}-dead" if dlq.fifo else None
        await self._backend.send(
            dlq.name, message.body, group_id=group or ("dead" if dlq.fifo else None),
            dedup_id=dedup, attributes=attributes,
        )  # fmt: skip
        await self._backend.delete(queue, message.receipt_handle)
        self.stats.dead_lettered += 1
        self._outcome(kind, "dead_lettered", failure)

    def _outcome(self, kind: str, outcome: str, failure: str) -> None:
        if self._on_outcome is not None:
            self._on_outcome(kind, outcome, failure)
