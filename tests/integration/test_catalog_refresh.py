"""The search index follows the store: a load in one process reaches every other's search."""

from __future__ import annotations

import asyncio

from mangaassist.catalog.service import CatalogService
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.store.sql import SqlStore
from tests.conftest import make_record


async def _wait_for(service: CatalogService, query: str, timeout_s: float = 10.0) -> list[str]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        titles = [hit.record.title_ja for hit in (await service.search(query)).hits]
        if titles or asyncio.get_running_loop().time() > deadline:
            return titles
        await asyncio.sleep(0.05)


async def test_load_in_one_process_reaches_search_in_another(store: SqlStore) -> None:
    # Given two processes' catalog services over the same database
    other_store = SqlStore(store.url)
    loader = CatalogService(store, refresh_s=0.0)
    reader = CatalogService(other_store, refresh_s=0.0)
    assert (await reader.search("フリーレン")).hits == []

    # When one of them loads a series
    await loader.upsert([make_record(title_ja="葬送のフリーレン", title="Frieren")])

    # Then the other finds it without a restart, and its own writes are visible at once
    assert await _wait_for(reader, "フリーレン") == ["葬送のフリーレン"]
    assert [h.record.title for h in (await loader.search("frieren")).hits] == ["Frieren"]
    await reader.close()
    await other_store.close()


async def test_refresh_interval_limits_version_checks(store: SqlStore) -> None:
    calls = 0
    original = store.catalog_version

    async def counting() -> int:
        nonlocal calls
        calls += 1
        return await original()

    store.catalog_version = counting  # type: ignore[method-assign]
    service = CatalogService(store, refresh_s=60.0)
    for _ in range(20):
        await service.search("漫画")
    assert calls == 1  # the first build only; the next check is a minute away


async def test_concurrent_refreshes_share_rebuilds(store: SqlStore) -> None:
    # Given a built index and a store counting how often the catalog is read whole
    service = CatalogService(store, refresh_s=60.0)
    await service.upsert([make_record(title_ja="葬送のフリーレン", title="Frieren")])
    await service.index()
    reads = 0
    original = store.list_series

    async def counting() -> list[SeriesRecord]:
        nonlocal reads
        reads += 1
        return await original()

    store.list_series = counting  # type: ignore[method-assign]
    # When 20 writers each ask for a refresh at once
    await asyncio.gather(*(service.refresh() for _ in range(20)))
    # Then the catalog was read at most twice (the running rebuild and one queued behind it)
    assert 1 <= reads <= 2
    # And a write elsewhere is picked up by refresh_if_changed, a current index is left alone
    other = SqlStore(store.url)
    await other.upsert_series([make_record(title_ja="ダンジョン飯", title="Dungeon Meshi")])
    await other.close()
    rebuilt_from = reads
    await service.refresh_if_changed()
    assert reads == rebuilt_from + 1
    assert [h.record.title for h in (await service.search("dungeon")).hits] == ["Dungeon Meshi"]
    before = reads
    await service.refresh_if_changed()
    assert reads == before
    await service.close()
