"""Waiting for enrichment jobs, for ``mangaassist catalog enrich``.

A job is finished when the store holds an enrichment with its id (the id ``enqueue_enrichment``
returned). A job whose enrichment was stored before the jobs were sent is a duplicate of an
earlier request, dropped by the queue's 5-minute window: it counts as finished, and is reported.

So that the command finishes with no server running, it can run its own worker on the
enrichment queue while it waits; that worker also knows which jobs failed for good (a permanent
error, or the last allowed receive failing), so the wait does not run into its timeout for them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mangaassist.domain.enrichment import EnrichmentDone
from mangaassist.queues.worker import Job, PermanentError
from mangaassist.store.base import EnrichmentStore

__all__ = ["EnrichmentWait", "FailureWatch", "wait_for_enrichment"]

#: How often the store is asked which jobs finished.
POLL_S = 0.25


@dataclass
class EnrichmentWait:
    """What became of the jobs waited for."""

    job_ids: tuple[str, ...]
    done: dict[str, EnrichmentDone] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    timed_out: bool = False

    @property
    def pending(self) -> int:
        """Jobs neither finished nor known to have failed."""
        return len(set(self.job_ids) - self.done.keys() - self.failed)

    def duplicates(self, sent_at: datetime) -> int:
        """Finished jobs stored before ``sent_at``: repeats of an earlier request, dropped."""
        return sum(1 for d in self.done.values() if d.updated_at < sent_at)

    @property
    def raw_text(self) -> int:
        """Finished jobs whose answer was not JSON (kept as raw text)."""
        return sum(1 for d in self.done.values() if not d.parsed)


class FailureWatch:
    """Wraps a job handler and remembers the jobs that failed for good."""

    def __init__(self, handler: Callable[[Job], Awaitable[None]], max_receives: int) -> None:
        self._handler = handler
        self._max_receives = max_receives
        self.failed: set[str] = set()

    async def __call__(self, job: Job) -> None:
        try:
            await self._handler(job)
        except PermanentError:
            self.failed.add(job.id)
            raise
        except (Exception, asyncio.CancelledError):  # a timeout cancels the handler
            if job.receive_count >= self._max_receives:  # the queue dead-letters it next
                self.failed.add(job.id)
            raise


async def wait_for_enrichment(
    store: EnrichmentStore,
    job_ids: Sequence[str],
    *,
    timeout_s: float,
    failed: Callable[[], set[str]] = set,
    on_progress: Callable[[int], None] | None = None,
    poll_s: float = POLL_S,
) -> EnrichmentWait:
    """Poll until every job finished or failed, or ``timeout_s`` passed.

    ``on_progress`` gets the number of jobs settled (finished or failed) after every poll.
    """
    wait = EnrichmentWait(tuple(dict.fromkeys(job_ids)))
    deadline = time.monotonic() + timeout_s
    while True:
        open_ids = [i for i in wait.job_ids if i not in wait.done]
        for done in await store.enrichment_jobs_done(open_ids):
            wait.done[done.job_id] = done
        wait.failed = failed() - wait.done.keys()
        if on_progress is not None:
            on_progress(len(wait.done) + len(wait.failed))
        if not wait.pending:
            return wait
        if time.monotonic() >= deadline:
            wait.timed_out = True
            return wait
        await asyncio.sleep(poll_s)
