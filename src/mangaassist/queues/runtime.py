"""Background job processing of a process: the worker and the queue-metrics watcher.

``mangaassist serve`` runs them inside each API process (``MANGAASSIST_WORKER_EMBEDDED``, the
default); ``mangaassist worker`` runs them alone. Leaving the context drains the worker: no new
receives, in-flight jobs finish (each is bounded by its kind's timeout), pending deletes are sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import structlog

from mangaassist.queues.worker import Worker

if TYPE_CHECKING:
    from mangaassist.bootstrap import Container

__all__ = ["background_jobs"]

log = structlog.get_logger("mangaassist.worker")


@contextlib.asynccontextmanager
async def background_jobs(
    container: Container,
    *,
    worker: bool,
    queues: list[str] | None = None,
    concurrency: int | None = None,
) -> AsyncIterator[Worker | None]:
    """Watch queue depths and, when ``worker``, run a worker; yields the worker (or None)."""
    metrics = container.queue_metrics
    interval = container.settings.queue_metrics_interval_s
    watcher = asyncio.create_task(metrics.watch(container.queues, container.topology, interval))
    running: Worker | None = None
    task: asyncio.Task[None] | None = None
    sweeper: asyncio.Task[None] | None = None
    if worker:
        running = container.worker(queues, concurrency)
        metrics.worker_started()
        task = asyncio.create_task(running.run())
        # Batch items (and callbacks) a crash kept out of their queue are enqueued again here.
        sweeper = asyncio.create_task(
            container.batches.run_sweeper(container.settings.batch_sweep_interval_s)
        )
        log.info(
            "worker_started", queues=running.queues, concurrency=running.concurrency,
            backend=container.queues.backend,
        )  # fmt: skip
    try:
        yield running
    finally:
        watcher.cancel()
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        if running is not None and task is not None:
            running.stop()
            try:
                await task
            except Exception:
                log.exception("worker_crashed")
            metrics.worker_stopped()
            log.info("worker_stopped", **vars(running.stats))
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
