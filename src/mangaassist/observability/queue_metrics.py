"""Queue and job metrics: depth, in flight, age of the oldest message, DLQ depth, backlog per
worker (the autoscaling signal of the design documents), and jobs processed and failed by kind.

Depths are read from the queue backend every ``interval_s`` by ``QueueMetrics.watch`` (a scrape
must not wait for the backend). Backlog per worker is ``visible / live workers``, the design
documents' ``ApproximateNumberOfMessagesVisible / RunningTaskCount``; a process counts itself
as one worker while its worker runs (``mangaassist_workers``), and the backlog divides by the
workers this process knows of, so with several hosts compute it in PromQL as
``sum(mangaassist_queue_messages{state="visible"}) / sum(mangaassist_workers)``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from mangaassist.queues.base import QueueBackend, QueueConfig, QueueError

__all__ = ["QueueMetrics"]

log = structlog.get_logger("mangaassist.queues")


class QueueMetrics:
    """Queue gauges and job counters in the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Gauge(
            "mangaassist_queue_messages",
            "Messages in a queue by state: visible, in_flight, delayed.",
            ["queue", "state"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.oldest_age = Gauge(
            "mangaassist_queue_oldest_message_age_seconds",
            "Age of the oldest message in a queue (NaN where the backend cannot tell).",
            ["queue"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.dead_letters = Gauge(
            "mangaassist_dlq_messages",
            "Messages waiting in a dead-letter queue (visible and in flight).",
            ["queue"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.backlog_per_worker = Gauge(
            "mangaassist_queue_backlog_per_worker",
            "Visible messages per running worker (the scaling signal; target 10).",
            ["queue"],
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self.workers = Gauge(
            "mangaassist_workers",
            "Job workers running in this process (0 or 1).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.jobs = Counter(
            "mangaassist_jobs",
            "Jobs finished, by kind and outcome (succeeded, retried, dead_lettered) and failure "
            "class (transient, throttled, timeout, permanent; empty on success).",
            ["kind", "outcome", "failure"],
            registry=registry,
        )
        self._running_workers = 0

    def worker_started(self) -> None:
        """A worker of this process began taking jobs."""
        self._running_workers += 1
        self.workers.set(self._running_workers)

    def worker_stopped(self) -> None:
        """A worker of this process stopped."""
        self._running_workers -= 1
        self.workers.set(self._running_workers)

    def job_outcome(self, kind: str, outcome: str, failure: str) -> None:
        """The worker's outcome hook."""
        self.jobs.labels(kind, outcome, failure).inc()

    async def refresh(self, backend: QueueBackend, topology: Iterable[QueueConfig]) -> None:
        """Read every queue's attributes once."""
        queues = list(topology)
        dead_letters = {q.redrive.dead_letter for q in queues if q.redrive is not None}
        workers = max(1, self._running_workers)
        for queue in queues:
            try:
                attributes = await backend.attributes(queue.name)
            except (QueueError, OSError) as exc:
                log.warning("queue_metrics_failed", queue=queue.name, error=str(exc))
                continue
            self.messages.labels(queue.name, "visible").set(attributes.visible)
            self.messages.labels(queue.name, "in_flight").set(attributes.in_flight)
            self.messages.labels(queue.name, "delayed").set(attributes.delayed)
            self.oldest_age.labels(queue.name).set(attributes.oldest_age_s)
            if queue.name in dead_letters:
                self.dead_letters.labels(queue.name).set(attributes.visible + attributes.in_flight)
            else:
                self.backlog_per_worker.labels(queue.name).set(attributes.visible / workers)

    async def watch(
        self, backend: QueueBackend, topology: Iterable[QueueConfig], interval_s: float
    ) -> None:
        """Refresh every ``interval_s`` until cancelled."""
        queues = list(topology)
        while True:
            await self.refresh(backend, queues)
            await asyncio.sleep(interval_s if math.isfinite(interval_s) else 60.0)
