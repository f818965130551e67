"""Inbound webhooks: authentic, processed once, never lost.

``InboundWebhooks.receive`` takes what arrived at ``POST /webhooks/{source}``, in this order:

1. an unknown source is 404 ``WEBHOOK_SOURCE_UNKNOWN`` (nothing unauthenticated is served);
2. the **raw** body is verified before anything parses it: 401 when the delivery does not prove
   it holds a secret (``WEBHOOK_SIGNATURE_MISSING``, ``WEBHOOK_SIGNATURE_INVALID``,
   ``WEBHOOK_TIMESTAMP_INVALID``), 403 ``WEBHOOK_TIMESTAMP_STALE`` when it does but its
   timestamp is outside the replay window (we know the sender; this delivery is refused);
3. the body is parsed: 400 ``MALFORMED_JSON``, 422 when it is not an object;
4. the idempotency key (the sender's delivery id, else the payload's own id, else the SHA-256
   of the raw body, never anything that changes on a retry) is claimed in the store:
   a completed key answers 200 ``already_processed`` with the stored result; a key another
   request is processing answers 409 ``WEBHOOK_IN_PROGRESS`` with ``Retry-After``. Answering 200
   there would be a promise we cannot keep: if that other processor then failed, its key is
   released for a retry the sender would never make, and the delivery would be lost;
5. the handler runs: success completes the key (200 ``processed``/``ignored``); a payload that is
   JSON but unusable is completed as ``rejected`` (422: resending it cannot help, so its
   duplicates get 200 ``already_processed``); any failure of ours releases the key and answers
   503 ``WEBHOOK_PROCESSING_FAILED`` with ``Retry-After``, and the sender's retry runs it again.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from mangaassist.domain.webhook import ClaimState
from mangaassist.events.envelope import InvalidEvent
from mangaassist.store.base import WebhookIdempotencyStore
from mangaassist.webhooks.handlers import Delivery, UnusablePayloadError, WebhookHandler
from mangaassist.webhooks.outcome import InboundOutcome, error_outcome, unavailable
from mangaassist.webhooks.payload import MalformedJsonError, idempotency_key, parse_payload
from mangaassist.webhooks.schemes import TIMESTAMP_STALE, WebhookAuthError
from mangaassist.webhooks.sources import WebhookSource

__all__ = ["InboundConfig", "InboundOutcome", "InboundWebhooks"]

log = structlog.get_logger("mangaassist.webhooks")

#: Longest ``Retry-After`` of a delivery someone else is processing (its lease may be longer).
IN_PROGRESS_RETRY_AFTER_S = 5
#: How often expired keys are purged (they are reclaimable anyway; this only frees space).
PURGE_INTERVAL_S = 3600.0


@dataclass(frozen=True, slots=True)
class InboundConfig:
    """Where and for how long keys are held; see the ``webhook_*`` settings."""

    sources: Mapping[str, WebhookSource]
    ttl_s: float = 86_400.0
    lease_s: float = 300.0


class InboundWebhooks:
    """Verifies, deduplicates and dispatches inbound webhook deliveries."""

    def __init__(
        self,
        config: InboundConfig,
        store: WebhookIdempotencyStore,
        handlers: Mapping[str, WebhookHandler],
    ) -> None:
        missing = {s.handler for s in config.sources.values()} - set(handlers)
        if missing:
            raise ValueError(f"no webhook handler named {sorted(missing)}")
        self._config = config
        self._store = store
        self._handlers = handlers
        self._purged_at = float("-inf")

    async def receive(
        self, source: str, headers: Mapping[str, str], raw_body: bytes
    ) -> InboundOutcome:
        """Answer one delivery; never raises for anything the sender sent."""
        config = self._config.sources.get(source)
        if config is None:
            return error_outcome(404, "WEBHOOK_SOURCE_UNKNOWN")
        try:
            config.verify(headers, raw_body, now=time.time())
        except WebhookAuthError as exc:
            log.warning("webhook_refused", source=source, code=exc.code, reason=exc.reason)
            if exc.code == TIMESTAMP_STALE:
                return error_outcome(403, exc.code, seconds=config.tolerance_s)
            return error_outcome(401, exc.code)
        try:
            payload = parse_payload(raw_body)
        except MalformedJsonError:
            return error_outcome(400, "MALFORMED_JSON")
        if not isinstance(payload, dict):
            return error_outcome(422, "WEBHOOK_PAYLOAD_INVALID", details=[_NOT_AN_OBJECT])
        key = idempotency_key(config, headers, payload, raw_body)
        await self._purge_now_and_then()
        return await self._process(config, Delivery(source, key), payload)

    async def _process(
        self, config: WebhookSource, delivery: Delivery, payload: dict[str, Any]
    ) -> InboundOutcome:
        now = datetime.now(UTC)
        try:
            claim = await self._store.claim_webhook(
                delivery.source,
                delivery.key,
                now=now,
                lease_s=self._config.lease_s,
                ttl_s=self._config.ttl_s,
            )
        except Exception:  # the store is down: nothing was done, the sender must retry
            log.exception("webhook_claim_failed", source=delivery.source, key=delivery.key)
            return unavailable()
        if claim.state is ClaimState.COMPLETED:
            return self._answer("already_processed", delivery, claim.result or {})
        if claim.state is ClaimState.IN_PROGRESS:
            left = (claim.expires_at - now).total_seconds() if claim.expires_at else 1.0
            wait = max(1, min(IN_PROGRESS_RETRY_AFTER_S, math.ceil(left)))
            return error_outcome(409, "WEBHOOK_IN_PROGRESS", retry_after_s=wait)
        handler = self._handlers[config.handler]
        try:
            # The handler must finish within the lease: past it, a retry may claim the key
            # while this run is still writing.
            async with asyncio.timeout(self._config.lease_s * 0.8):
                result = await handler.handle(payload, delivery)
        except (UnusablePayloadError, InvalidEvent) as exc:
            return await self._reject(delivery, exc, claim.token)
        except Exception:
            log.exception("webhook_failed", source=delivery.source, key=delivery.key)
            await self._release(delivery, claim.token)
            return unavailable()
        except asyncio.CancelledError:
            # The request was abandoned: free the key now rather than after the lease.
            await asyncio.shield(self._release(delivery, claim.token))
            raise
        if not await self._complete(
            delivery, {"outcome": result.outcome, **result.summary}, claim.token
        ):
            return unavailable()
        log.info(
            "webhook_processed", source=delivery.source, key=delivery.key, outcome=result.outcome
        )
        return self._answer(result.outcome, delivery, result.summary)

    async def _reject(
        self, delivery: Delivery, exc: UnusablePayloadError | InvalidEvent, token: str | None
    ) -> InboundOutcome:
        if isinstance(exc, InvalidEvent):  # the payload made an event its schema refuses
            exc = UnusablePayloadError(exc.reason, details=[{"field": "", "message": exc.reason}])
        stored = {"outcome": "rejected", "code": exc.code, "reason": exc.reason}
        log.warning("webhook_rejected", source=delivery.source, key=delivery.key, reason=exc.reason)
        if not await self._complete(delivery, stored, token):
            return unavailable()
        return error_outcome(422, exc.code, details=exc.details)

    async def _complete(
        self, delivery: Delivery, result: dict[str, Any], token: str | None
    ) -> bool:
        """Keep the result for duplicates; False when the store failed. The effect happened,
        but its key stays ``processing`` until the lease ends and the sender's retry runs the
        (idempotent) handler again: a repeat, never a loss."""
        try:
            await self._store.complete_webhook(
                delivery.source,
                delivery.key,
                result,
                now=datetime.now(UTC),
                ttl_s=self._config.ttl_s,
                token=token,
            )
        except Exception:
            log.exception("webhook_complete_failed", source=delivery.source, key=delivery.key)
            return False
        return True

    async def _release(self, delivery: Delivery, token: str | None) -> None:
        try:
            await self._store.release_webhook(delivery.source, delivery.key, token=token)
        except Exception:  # the lease ends the claim anyway
            log.exception("webhook_release_failed", source=delivery.source, key=delivery.key)

    def _answer(self, status: str, delivery: Delivery, result: dict[str, Any]) -> InboundOutcome:
        body = {
            "status": status,
            "source": delivery.source,
            "idempotencyKey": delivery.key,
            "result": result,
        }
        return InboundOutcome(200, body=body)

    async def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._purged_at < PURGE_INTERVAL_S:
            return
        self._purged_at = time.monotonic()
        try:
            purged = await self._store.purge_webhook_keys(datetime.now(UTC))
        except Exception:  # housekeeping: never fails a delivery
            log.exception("webhook_purge_failed")
            return
        if purged:
            log.info("webhook_keys_purged", count=purged)


_NOT_AN_OBJECT = {"field": "", "message": "the payload must be a JSON object"}
