"""Outbound webhooks: signed delivery, a retry schedule and endpoint health, for every sender.

Event-bus webhook targets and job callbacks both send through ``OutboundWebhooks``:

- **signed** with Standard Webhooks headers (``webhook-id`` stays the same on every retry, so
  the receiver can drop duplicates);
- **retried on a schedule**: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by
  default (the Standard Webhooks / Svix schedule; ``MANGAASSIST_WEBHOOK_RETRY_SCHEDULE_S``);
  a ``Retry-After`` from the receiver is honoured when it asks for longer;
- **through the SSRF guard**: loopback, private and link-local destinations are refused unless
  allow-listed (``webhooks/ssrf.py``);
- **endpoint health**: an endpoint that has failed without a single success for the disable
  period (5 days by default) is disabled; deliveries to it then go straight to their
  dead-letter queue until an operator re-enables it (``mangaassist events endpoints enable``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from mangaassist.store.base import EventStore
from mangaassist.webhooks.delivery import WebhookClient, retry_after_s
from mangaassist.webhooks.signing import signed_headers
from mangaassist.webhooks.ssrf import ForbiddenCallbackError

__all__ = [
    "DEFAULT_SCHEDULE_S",
    "RETRYABLE_STATUSES",
    "DeliveryOutcome",
    "OutboundWebhooks",
    "RetrySchedule",
]

log = structlog.get_logger("mangaassist.webhooks")

#: Standard Webhooks' suggested schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE_S: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
#: Answers worth another try besides 5xx: request timeout and too many requests.
RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """When each attempt happens, counted from the previous one."""

    delays_s: tuple[float, ...] = DEFAULT_SCHEDULE_S

    @property
    def attempts(self) -> int:
        """How many attempts the schedule allows."""
        return len(self.delays_s)

    def delay_after(self, attempt: int) -> float | None:
        """The wait before attempt ``attempt + 1`` (attempts count from 1), or None when the
        schedule is over."""
        return self.delays_s[attempt] if 0 < attempt < len(self.delays_s) else None


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What one attempt did. ``retryable`` failures are worth the next scheduled attempt."""

    delivered: bool
    status: int | None = None
    reason: str = ""
    retryable: bool = False
    #: Seconds the receiver asked us to wait (``Retry-After``).
    retry_after_s: float | None = None
    #: The endpoint is disabled: nothing was sent.
    endpoint_disabled: bool = False


class OutboundWebhooks:
    """Sends one signed POST and keeps the endpoint's health."""

    def __init__(
        self,
        client: WebhookClient,
        store: EventStore,
        secret: Callable[[], str],
        *,
        schedule: Sequence[float] = DEFAULT_SCHEDULE_S,
        disable_after: timedelta = timedelta(days=5),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.schedule = RetrySchedule(tuple(schedule))
        self._store = store
        self._secret = secret
        self._disable_after = disable_after
        self._clock = clock

    def next_delay(self, attempt: int, outcome: DeliveryOutcome) -> float | None:
        """The wait before the next attempt after attempt ``attempt`` failed, or None when it
        should not be retried (not retryable, schedule over)."""
        if not outcome.retryable:
            return None
        delay = self.schedule.delay_after(attempt)
        if delay is None:
            return None
        return max(delay, outcome.retry_after_s or 0.0)

    async def deliver(self, url: str, msg_id: str, body: bytes) -> DeliveryOutcome:
        """One attempt: refused if the endpoint is disabled or the guard refuses the address."""
        health = await self._store.get_endpoint(url)
        if health is not None and health.disabled:
            return DeliveryOutcome(False, reason="endpoint disabled", endpoint_disabled=True)
        headers = signed_headers(self._secret(), msg_id, body, timestamp=int(time.time()))
        try:
            response = await self.client.post(url, body, headers)
        except ForbiddenCallbackError as exc:
            return DeliveryOutcome(False, reason=f"{exc.code}: {exc.reason}")
        except httpx.HTTPError as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return await self._failed(url, DeliveryOutcome(False, reason=reason, retryable=True))
        status = response.status_code
        if 200 <= status < 300:
            if health is not None and health.failing_since is not None:
                await self._store.endpoint_succeeded(url)
            return DeliveryOutcome(True, status=status)
        retryable = status in RETRYABLE_STATUSES or status >= 500
        wait = retry_after_s(response.headers.get("retry-after"))
        outcome = DeliveryOutcome(False, status, f"HTTP {status}", retryable, wait)
        return await self._failed(url, outcome)

    async def _failed(self, url: str, outcome: DeliveryOutcome) -> DeliveryOutcome:
        health = await self._store.endpoint_failed(
            url, now=self._clock(), error=outcome.reason, disable_after=self._disable_after
        )
        if health.disabled:
            log.warning("webhook_endpoint_disabled", url=url, failing_since=health.failing_since)
        return outcome
