"""Completion callbacks: the ``callback`` job POSTs a final item to its ``callback_url``.

Delivery goes through ``OutboundWebhooks`` (``webhooks/outbound.py``), like the event bus's
webhook targets: signed with Standard Webhooks headers (``webhook-id`` is ``msg_<requestId>``,
the same on every retry, so receivers can drop duplicates), the SSRF guard, the retry schedule
(immediately, 5 s, 5 min, ...; a longer ``Retry-After`` honoured) and endpoint health (an
endpoint failing for the disable period is disabled). A 2xx delivers it. Network errors, 408,
429 and 5xx are retried on the schedule, within the queue's receives; after the last one the
worker dead-letters the job with the reason. Any other answer (3xx: redirects are not followed,
other 4xx), a refused address and a disabled endpoint fail it at once. The outcome of every
attempt is kept on the item (``callback`` in the status).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import structlog

from mangaassist.domain.batch import BatchItem, CallbackState
from mangaassist.jobs.status import callback_payload
from mangaassist.queues.base import QueueBackend
from mangaassist.queues.worker import Job, PermanentError, TransientError
from mangaassist.store.base import BatchStore
from mangaassist.webhooks.outbound import RETRYABLE_STATUSES, OutboundWebhooks

__all__ = ["RETRYABLE_STATUSES", "CallbackJobs", "callback_body", "message_id"]

log = structlog.get_logger("mangaassist.jobs")


def message_id(item: BatchItem) -> str:
    """The ``webhook-id`` of an item's callback."""
    return f"msg_{item.request_id}"


def callback_body(item: BatchItem) -> bytes:
    """The exact bytes POSTed (and signed)."""
    return json.dumps(callback_payload(item), ensure_ascii=False, separators=(",", ":")).encode()


class CallbackJobs:
    """The ``callback`` handler."""

    def __init__(self, store: BatchStore, queues: QueueBackend, outbound: OutboundWebhooks) -> None:
        self._store = store
        self._queues = queues
        self._outbound = outbound

    async def handle(self, job: Job) -> None:
        """Deliver one item's callback (see the module docstring for the outcomes)."""
        request_id = str(job.payload.get("requestId", ""))
        item = await self._store.get_batch_item(request_id)
        if item is None:
            raise PermanentError(f"no batch request {request_id!r}")
        if item.callback_url is None or item.callback_state == CallbackState.DELIVERED:
            return
        if not item.status.final:  # sent by hand or redriven too early: the item sends it later
            raise PermanentError(f"{request_id} is still {item.status.value}")
        body = callback_body(item)
        outcome = await self._outbound.deliver(item.callback_url, message_id(item), body)
        if outcome.delivered:
            await self._record(item, CallbackState.DELIVERED, None)
            log.info("callback_delivered", request_id=request_id, status=outcome.status)
            return
        if outcome.status is None and not outcome.retryable:  # refused before sending
            await self._record(item, CallbackState.FAILED, outcome.reason)
            raise PermanentError(f"callback refused: {outcome.reason}")
        delay = self._outbound.next_delay(job.receive_count, outcome)
        if delay is None and outcome.retryable:  # the schedule is over
            await self._record(item, CallbackState.FAILED, outcome.reason)
            raise PermanentError(f"callback not delivered: {outcome.reason}")
        if delay is None:
            await self._record(item, CallbackState.FAILED, outcome.reason)
            raise PermanentError(f"callback refused by the receiver: {outcome.reason}")
        await self._retry(job, item, outcome.reason, delay)

    async def _retry(self, job: Job, item: BatchItem, reason: str, wait_s: float | None) -> None:
        """Record the failed attempt, then raise for the queue to retry (or, after its last
        receive, to dead-letter with the reason)."""
        redrive = (await self._queues.config(job.queue)).redrive
        last = redrive is not None and job.receive_count >= redrive.max_receive_count
        await self._record(item, CallbackState.FAILED if last else CallbackState.ENQUEUED, reason)
        raise TransientError(f"callback not delivered: {reason}", retry_after_s=wait_s)

    async def _record(self, item: BatchItem, state: CallbackState, error: str | None) -> None:
        await self._store.set_callback_state(
            item.request_id, state, now=datetime.now(UTC), error=error, attempted=True
        )
