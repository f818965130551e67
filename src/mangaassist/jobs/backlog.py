"""Backpressure of the batch API: refuse new work while a queue's backlog is too long.

The backlog is what waits in the queue (visible + delayed, as ``QueueBackend.attributes``
reports it); reading it costs a round trip, so a value is reused for about a second, and
concurrent requests share one read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from mangaassist.queues.base import QueueBackend

__all__ = ["BACKLOG_CACHE_S", "BacklogGauge"]

#: How long a backlog reading is reused.
BACKLOG_CACHE_S = 1.0


class BacklogGauge:
    """Cached backlog per queue and the per-queue limits above which new work is refused."""

    def __init__(
        self,
        queues: QueueBackend,
        limits: Mapping[str, int],
        *,
        cache_s: float = BACKLOG_CACHE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._queues = queues
        self._limits = dict(limits)
        self._cache_s = cache_s
        self._clock = clock
        self._read: dict[str, tuple[float, int]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def backlog(self, queue: str) -> int:
        """Messages waiting in ``queue`` (visible + delayed), at most ``cache_s`` old.
        Raises what the queue backend raises when it cannot be reached."""
        lock = self._locks.setdefault(queue, asyncio.Lock())
        async with lock:
            cached = self._read.get(queue)
            if cached is not None and self._clock() - cached[0] < self._cache_s:
                return cached[1]
            attributes = await self._queues.attributes(queue)
            waiting = attributes.visible + attributes.delayed
            self._read[queue] = (self._clock(), waiting)
            return waiting

    async def over_limit(self, queue: str) -> bool:
        """True when ``queue`` has a limit and its backlog is above it."""
        limit = self._limits.get(queue)
        return limit is not None and await self.backlog(queue) > limit
