"""The embedded response cache: one process, no service needed, bounded in size."""

from __future__ import annotations

import heapq
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from mangaassist.cache.base import ResponseCache

__all__ = ["MemoryResponseCache"]

#: Rebuild the expiry heap once stale items (from re-puts) outnumber live entries by this much.
_HEAP_SLACK = 1024


@dataclass(frozen=True, slots=True)
class _Entry:
    value: bytes
    expires_at: float
    product_ids: tuple[str, ...]


class MemoryResponseCache(ResponseCache):
    """An in-process cache with TTL expiry, LRU eviction and a product-id index.

    Expired entries are dropped lazily on read and, through a heap ordered by expiry, before any
    live entry is evicted; past ``max_entries`` the least recently used entry goes. Every entry
    that leaves also leaves the product index, so memory stays bounded by ``max_entries``.

    No method awaits, so each runs to completion within one event-loop step: asyncio tasks see
    every operation as atomic. The cache is not meant to be shared between threads.

    Args:
        max_entries: How many entries the cache holds at most.
        clock: Seconds on a monotonic clock; tests inject a fake one to expire entries.
    """

    backend = "memory"

    def __init__(
        self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._keys_by_product: dict[str, set[str]] = {}
        self._expiries: list[tuple[float, str]] = []  # heap; may hold stale items of re-puts

    async def _get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    async def _put(
        self, key: str, value: bytes, product_ids: tuple[str, ...], ttl_s: float
    ) -> None:
        now = self._clock()
        self._drop_expired(now)
        if key in self._entries:
            self._drop(key)
        entry = _Entry(value, now + ttl_s, product_ids)
        self._entries[key] = entry
        for product_id in product_ids:
            self._keys_by_product.setdefault(product_id, set()).add(key)
        heapq.heappush(self._expiries, (entry.expires_at, key))
        while len(self._entries) > self._max_entries:
            self._drop(next(iter(self._entries)))
        if len(self._expiries) > 2 * len(self._entries) + _HEAP_SLACK:
            self._expiries = [(e.expires_at, k) for k, e in self._entries.items()]
            heapq.heapify(self._expiries)

    async def _invalidate_products(self, product_ids: tuple[str, ...]) -> int:
        now = self._clock()
        dropped = 0
        for product_id in product_ids:
            for key in self._keys_by_product.pop(product_id, set()):
                entry = self._drop(key)
                if entry is not None and entry.expires_at > now:
                    dropped += 1
        return dropped

    async def _delete(self, key: str) -> bool:
        entry = self._drop(key)
        return entry is not None and entry.expires_at > self._clock()

    async def clear(self) -> None:
        self._entries.clear()
        self._keys_by_product.clear()
        self._expiries.clear()

    async def ping(self) -> None:
        """Always reachable: the cache lives in this process."""

    async def close(self) -> None:
        await self.clear()

    def _drop(self, key: str) -> _Entry | None:
        """Remove ``key`` from the entries and from the index of every product it mentions."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return None
        for product_id in entry.product_ids:
            keys = self._keys_by_product.get(product_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_by_product[product_id]
        return entry

    def _drop_expired(self, now: float) -> None:
        """Drop entries whose time is up, so eviction never picks a live entry over a dead one."""
        while self._expiries and self._expiries[0][0] <= now:
            _, key = heapq.heappop(self._expiries)
            entry = self._entries.get(key)
            if entry is not None and entry.expires_at <= now:  # else re-put with a later expiry
                self._drop(key)
