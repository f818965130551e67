"""Batch analysis: accept a batch, enqueue one job per item, run each job, keep results safe.

Nothing accepted is lost. ``submit`` writes the batch and its items (``queued``) to the store
*before* anything is enqueued, then sends the jobs ten at a time and marks the items the queue
confirmed. An item whose send failed, or whose process died in between, stays ``queued`` with no
``enqueued_at``; ``sweep`` (run by every worker process) enqueues such items once they are older
than ``requeue_after_s``, and sends callback jobs that a crash kept from being enqueued. A job
may therefore arrive twice: the handler skips an item that is already final, and the store only
ever finishes an item once, so a result, its usage and its cost are never stored twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import structlog

from mangaassist.analysis.base import Analyzer, UnknownSeriesError
from mangaassist.domain.batch import (
    PRIORITY_QUEUES,
    BatchItem,
    BatchRequest,
    CallbackState,
    ItemFailure,
    ItemResult,
    ItemStatus,
)
from mangaassist.llm.base import ModelError
from mangaassist.queues.base import MAX_BATCH, BatchEntry, QueueBackend, QueueError
from mangaassist.queues.worker import Job, PermanentError, TransientError, job_body
from mangaassist.store.base import BatchStore

__all__ = [
    "ANALYSIS_JOB",
    "CALLBACK_JOB",
    "BatchConfig",
    "BatchJobs",
    "NewItem",
    "SweepCounts",
]

log = structlog.get_logger("mangaassist.jobs")

#: Job kinds.
ANALYSIS_JOB = "batch_analysis"
CALLBACK_JOB = "callback"


@dataclass(frozen=True, slots=True)
class NewItem:
    """One item of a submission."""

    manga_id: str
    analysis_type: str
    additional_context: str | None = None


@dataclass(frozen=True, slots=True)
class BatchConfig:
    """How long one analysis may take, and when the sweep takes over an unconfirmed item."""

    analysis_timeout_s: float = 90.0
    requeue_after_s: float = 60.0
    sweep_limit: int = 500


@dataclass(frozen=True, slots=True)
class SweepCounts:
    """What one sweep did."""

    enqueued: int = 0
    callbacks: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


def callback_job(item: BatchItem) -> str:
    """The message body of an item's callback job (one id per item: retries share it)."""
    return job_body(CALLBACK_JOB, f"callback-{item.request_id}", {"requestId": item.request_id})


class BatchJobs:
    """The batch service: submission, the ``batch_analysis`` handler and the sweep."""

    def __init__(
        self,
        store: BatchStore,
        queues: QueueBackend,
        analyzer: Analyzer,
        config: BatchConfig | None = None,
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._queues = queues
        self._analyzer = analyzer
        self._config = config or BatchConfig()
        self._clock = clock

    @property
    def config(self) -> BatchConfig:
        """Timeouts and sweep settings."""
        return self._config

    # -- submission ----------------------------------------------------------------------------

    async def submit(
        self,
        items: Sequence[NewItem],
        *,
        priority: str = "normal",
        callback_url: str | None = None,
        notification: dict[str, Any] | None = None,
    ) -> tuple[BatchRequest, list[BatchItem]]:
        """Record the batch, then enqueue its items; returns them with their request ids.

        Raises only when the store cannot record the batch; an enqueue failure leaves the item
        to the sweep (the request is accepted either way)."""
        now = self._clock()
        queue = PRIORITY_QUEUES[priority]
        batch = BatchRequest(
            id=uuid.uuid4().hex,
            created_at=now,
            priority=priority,
            queue=queue,
            item_count=len(items),
            callback_url=callback_url,
            notification=notification,
        )
        records = [
            BatchItem(
                request_id=uuid.uuid4().hex,
                batch_id=batch.id,
                position=position,
                manga_id=item.manga_id,
                analysis_type=item.analysis_type,
                additional_context=item.additional_context,
                status=ItemStatus.QUEUED,
                attempts=0,
                created_at=now,
                updated_at=now,
                queue=queue,
                callback_url=callback_url,
                callback_state=CallbackState.PENDING if callback_url else CallbackState.NONE,
            )
            for position, item in enumerate(items)
        ]
        await self._store.create_batch(batch, records)
        await self.enqueue(records)
        return batch, records

    async def enqueue(self, items: Sequence[BatchItem]) -> list[str]:
        """Send the items' jobs, ten per call, and mark those the queue confirmed; returns the
        request ids left for the sweep (every failure is logged, none is dropped)."""
        left: list[str] = []
        ordered = sorted(items, key=lambda item: item.queue)
        for queue, group in groupby(ordered, key=lambda item: item.queue):
            pending = list(group)
            for start in range(0, len(pending), MAX_BATCH):
                left += await self._send_chunk(queue, pending[start : start + MAX_BATCH])
        return left

    async def _send_chunk(self, queue: str, chunk: list[BatchItem]) -> list[str]:
        entries = [
            BatchEntry(
                str(i), job_body(ANALYSIS_JOB, item.request_id, {"requestId": item.request_id})
            )
            for i, item in enumerate(chunk)
        ]
        try:
            results = await self._queues.send_batch(queue, entries)
        except (QueueError, OSError) as exc:
            log.warning("batch_enqueue_failed", queue=queue, items=len(chunk), error=str(exc))
            return [item.request_id for item in chunk]
        sent = [chunk[int(r.id)].request_id for r in results if r.ok]
        failed = [(chunk[int(r.id)].request_id, r.error_message) for r in results if not r.ok]
        for request_id, error in failed:
            log.warning("batch_enqueue_failed", queue=queue, request_id=request_id, error=error)
        if sent:
            try:
                await self._store.mark_enqueued(sent, now=self._clock())
            except Exception:  # the jobs are queued; the sweep may send them again, harmlessly
                log.exception("batch_mark_enqueued_failed", queue=queue, items=len(sent))
        return [request_id for request_id, _ in failed]

    # -- the sweep -----------------------------------------------------------------------------

    async def sweep(self) -> SweepCounts:
        """Enqueue items no queue confirmed, and callbacks no queue received, once they are
        older than ``requeue_after_s``."""
        cutoff = self._clock() - timedelta(seconds=self._config.requeue_after_s)
        stale = await self._store.list_unenqueued(cutoff, self._config.sweep_limit)
        left = await self.enqueue(stale) if stale else []
        callbacks = 0
        for item in await self._store.list_unsent_callbacks(cutoff, self._config.sweep_limit):
            try:
                await self._send_callback(item)
                callbacks += 1
            except (QueueError, OSError) as exc:
                log.warning("callback_enqueue_failed", request_id=item.request_id, error=str(exc))
        counts = SweepCounts(enqueued=len(stale) - len(left), callbacks=callbacks)
        if counts.enqueued or counts.callbacks:
            log.info("batch_sweep", enqueued=counts.enqueued, callbacks=counts.callbacks)
        return counts

    async def run_sweeper(self, interval_s: float) -> None:
        """Sweep every ``interval_s`` until cancelled; a failed sweep is logged and retried."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("batch_sweep_failed")
            await asyncio.sleep(interval_s)

    # -- the job -------------------------------------------------------------------------------

    async def handle(self, job: Job) -> None:
        """The ``batch_analysis`` handler: analyse the item unless it is final, then make sure
        its callback is on its way. Store failures raise (the job is retried, loudly)."""
        request_id = str(job.payload.get("requestId") or job.id)
        item = await self._store.get_batch_item(request_id)
        if item is None:
            raise PermanentError(f"no batch request {request_id}")
        if not item.status.final:
            item = await self._analyze(job, item)
        await self._ensure_callback(item)

    async def _analyze(self, job: Job, item: BatchItem) -> BatchItem:
        started = await self._store.start_batch_item(item.request_id, now=self._clock())
        if started is None:
            raise PermanentError(f"no batch request {item.request_id}")
        if started.status.final:  # another delivery finished it meanwhile
            return started
        try:
            async with asyncio.timeout(self._config.analysis_timeout_s):
                answer = await self._analyzer.analyze(
                    item.manga_id,
                    item.analysis_type,
                    additional_context=item.additional_context,
                )
        except UnknownSeriesError:
            failure = ItemFailure("UNKNOWN_SERIES", f"{item.manga_id} is not in the catalog")
            await self._finish_failed(item, failure)
            raise PermanentError(f"{item.request_id}: {failure.message}") from None
        except (ModelError, TimeoutError) as exc:
            reason = str(exc) or f"no answer within {self._config.analysis_timeout_s:g} s"
            if await self._last_attempt(job):
                message = f"the model failed {job.receive_count} times; last: {reason}"
                await self._finish_failed(item, ItemFailure("ANALYSIS_FAILED", message))
            raise TransientError(f"{item.request_id}: {reason}") from exc
        result = ItemResult(
            data=answer.data,
            raw_text=answer.raw_text,
            model_id=answer.model_id,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            cost_usd=answer.cost_usd,
        )
        await self._store.complete_batch_item(item.request_id, result, now=self._clock())
        return await self._reload(item.request_id)

    async def _finish_failed(self, item: BatchItem, failure: ItemFailure) -> None:
        await self._store.fail_batch_item(item.request_id, failure, now=self._clock())
        with contextlib.suppress(QueueError, OSError):  # the sweep sends it otherwise
            await self._ensure_callback(await self._reload(item.request_id))

    async def _reload(self, request_id: str) -> BatchItem:
        item = await self._store.get_batch_item(request_id)
        if item is None:
            raise PermanentError(f"batch request {request_id} disappeared")
        return item

    async def _last_attempt(self, job: Job) -> bool:
        redrive = (await self._queues.config(job.queue)).redrive
        return redrive is not None and job.receive_count >= redrive.max_receive_count

    async def _ensure_callback(self, item: BatchItem) -> None:
        if item.status.final and item.callback_state == CallbackState.PENDING:
            await self._send_callback(item)

    async def _send_callback(self, item: BatchItem) -> None:
        await self._queues.send(item.queue, callback_job(item))
        await self._store.set_callback_state(
            item.request_id, CallbackState.ENQUEUED, now=self._clock()
        )
