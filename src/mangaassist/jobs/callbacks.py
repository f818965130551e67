"""Completion callbacks: the ``callback`` job POSTs a final item to its ``callback_url``.

Each delivery is signed with Standard Webhooks headers (``webhook-id`` is ``msg_<requestId>``,
the same on every retry, so receivers can drop duplicates). A 2xx delivers it. Network errors,
408, 429 and 5xx are retried by the queue with backoff (``Retry-After`` honoured); after the
queue's last receive the worker dead-letters the job with the reason. Any other answer (3xx:
redirects are not followed, other 4xx) and an address the SSRF guard refuses fail it at once.
The outcome of every attempt is kept on the item (``callback`` in the status).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import structlog

from mangaassist.domain.batch import BatchItem, CallbackState
from mangaassist.jobs.status import callback_payload
from mangaassist.queues.base import QueueBackend
from mangaassist.queues.worker import Job, PermanentError, TransientError
from mangaassist.store.base import BatchStore
from mangaassist.webhooks.delivery import WebhookClient, retry_after_s
from mangaassist.webhooks.signing import signed_headers
from mangaassist.webhooks.ssrf import ForbiddenCallbackError

__all__ = ["RETRYABLE_STATUSES", "CallbackJobs", "callback_body", "message_id"]

log = structlog.get_logger("mangaassist.jobs")

#: Answers worth another try besides 5xx: request timeout and too many requests.
RETRYABLE_STATUSES = frozenset({408, 429})


def message_id(item: BatchItem) -> str:
    """The ``webhook-id`` of an item's callback."""
    return f"msg_{item.request_id}"


def callback_body(item: BatchItem) -> bytes:
    """The exact bytes POSTed (and signed)."""
    return json.dumps(callback_payload(item), ensure_ascii=False, separators=(",", ":")).encode()


class CallbackJobs:
    """The ``callback`` handler."""

    def __init__(
        self,
        store: BatchStore,
        queues: QueueBackend,
        client: WebhookClient,
        secret: Callable[[], str],
    ) -> None:
        self._store = store
        self._queues = queues
        self._client = client
        self._secret = secret

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
        headers = signed_headers(self._secret(), message_id(item), body)
        try:
            response = await self._client.post(item.callback_url, body, headers)
        except ForbiddenCallbackError as exc:
            await self._record(item, CallbackState.FAILED, f"{exc.code}: {exc.reason}")
            raise PermanentError(f"callback refused: {exc.code}: {exc.reason}") from None
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            await self._retry(job, item, reason, None)
        status = response.status_code
        if 200 <= status < 300:
            await self._record(item, CallbackState.DELIVERED, None)
            log.info("callback_delivered", request_id=request_id, status=status)
            return
        reason = f"HTTP {status}"
        if status in RETRYABLE_STATUSES or status >= 500:
            await self._retry(job, item, reason, retry_after_s(response.headers.get("retry-after")))
        await self._record(item, CallbackState.FAILED, reason)
        raise PermanentError(f"callback refused by the receiver: {reason}")

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
