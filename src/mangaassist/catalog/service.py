"""The catalog service: search, lookup and loading, with an index that follows the store.

Every process keeps its own in-memory index. It checks the store's catalog version at most every
``refresh_s`` seconds (and at once after its own writes) and rebuilds in a worker thread when the
version moved, serving the previous index meanwhile, so a catalog load in one process reaches the
search of every other.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from mangaassist.catalog.index import SearchFilters, SearchIndex, SearchResult
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.enrichment import SeriesEnrichment
from mangaassist.store.base import Store, UpsertCounts

__all__ = ["CatalogService", "ChangeListener"]

#: Told the ids of changed series after a successful upsert.
ChangeListener = Callable[[tuple[str, ...]], Awaitable[object]]


class CatalogService:
    """Search and lookup over the store's catalog."""

    def __init__(self, store: Store, *, refresh_s: float = 1.0) -> None:
        self._store = store
        self._refresh_s = refresh_s
        self._index: SearchIndex | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()
        self._rebuild: asyncio.Task[None] | None = None
        # A rebuild asked for by ``refresh`` that has not started (read the store) yet.
        self._queued: asyncio.Future[None] | None = None
        self._refreshes: set[asyncio.Task[None]] = set()
        self._change_listeners: list[ChangeListener] = []

    @property
    def indexed_count(self) -> int | None:
        """Series in the current index, None before the first build."""
        return None if self._index is None else len(self._index)

    async def index(self) -> SearchIndex:
        """The current index, rebuilt first when none exists yet."""
        now = time.monotonic()
        if self._index is not None and now - self._checked_at < self._refresh_s:
            return self._index
        async with self._lock:
            if self._index is None:
                await self._build()
            elif time.monotonic() - self._checked_at >= self._refresh_s:
                self._checked_at = time.monotonic()
                version = await self._store.catalog_version()
                if version != self._index.version and self._rebuild is None:
                    self._rebuild = asyncio.create_task(self._build_in_background())
        assert self._index is not None
        return self._index

    async def _build(self) -> None:
        self._checked_at = time.monotonic()
        version = await self._store.catalog_version()
        records = await self._store.list_series()
        self._index = await asyncio.to_thread(SearchIndex, records, version)

    async def _build_in_background(self) -> None:
        try:
            await self._build()
        finally:
            self._rebuild = None

    async def refresh(self) -> SearchIndex:
        """Rebuild the index now from the store (after this process changed the catalog).

        Concurrent callers share rebuilds: a caller that finds one waiting to start joins it,
        since it has not read the store yet and so includes the caller's write. A burst of
        catalog writes costs two rebuilds, not one each. The rebuild runs in its own task, so
        a caller that gives up does not cancel it for the others.
        """
        queued = self._queued
        if queued is None:
            queued = self._queued = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._rebuild_queued(queued))
            self._refreshes.add(task)
            task.add_done_callback(self._refreshes.discard)
        await asyncio.shield(queued)
        assert self._index is not None
        return self._index

    async def _rebuild_queued(self, done: asyncio.Future[None]) -> None:
        try:
            async with self._lock:
                self._queued = None  # from here on, new writes need the next rebuild
                await self._build()
        except Exception as exc:
            done.set_exception(exc)
        else:
            done.set_result(None)

    async def refresh_if_changed(self) -> None:
        """Rebuild when the store's catalog version has moved past this process's index (a
        write elsewhere); nothing before the first build or when it is current."""
        if self._index is not None and await self._store.catalog_version() != self._index.version:
            await self.refresh()

    async def search(
        self, query: str, filters: SearchFilters | None = None, limit: int = 10
    ) -> SearchResult:
        """The best series for ``query``; see ``SearchIndex.search``."""
        return (await self.index()).search(query, filters, limit)

    async def get(self, series_id: str) -> SeriesRecord | None:
        """One series by id, straight from the store."""
        return await self._store.get_series(series_id)

    async def get_many(self, series_ids: Sequence[str]) -> dict[str, SeriesRecord]:
        """The series that exist among ``series_ids``, by id, straight from the store."""
        return await self._store.get_series_many(series_ids) if series_ids else {}

    async def enrichment(self, series_id: str) -> list[SeriesEnrichment]:
        """What models wrote about a series, by type, straight from the store."""
        return await self._store.get_enrichment(series_id)

    async def upsert(
        self,
        records: Sequence[SeriesRecord],
        on_batch: Callable[[int], None] | None = None,
    ) -> UpsertCounts:
        """Insert or update series and re-index if anything changed."""
        counts = await self._store.upsert_series(records, on_batch)
        if counts.changed:
            await self.changed(counts.changed_ids)
        return counts

    async def changed(self, series_ids: Sequence[str], *, reindex: bool = True) -> None:
        """This process changed ``series_ids`` and bumped the catalog version: tell the
        listeners (the answer cache drops what mentions them), then re-index now unless
        ``reindex`` is False (an enrichment leaves the records as they were; the index follows
        the version within ``refresh_s`` anyway). Other processes see the version move within
        their ``refresh_s``, and their answer cache keys move with it."""
        ids = tuple(series_ids)
        for listener in self._change_listeners:
            await listener(ids)
        if reindex and self._index is not None:
            await self.refresh()

    def on_change(self, listener: ChangeListener) -> None:
        """Call ``listener`` with the ids of series this process changes (cache invalidation)."""
        self._change_listeners.append(listener)

    async def close(self) -> None:
        """Wait for a background rebuild so shutdown leaves no task behind."""
        pending = [*self._refreshes, *([self._rebuild] if self._rebuild is not None else [])]
        await asyncio.gather(*pending, return_exceptions=True)
