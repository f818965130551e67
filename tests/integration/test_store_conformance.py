"""The store port's behaviour, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from mangaassist.store.migrations import MIGRATIONS
from mangaassist.store.sql import SqlStore
from tests.conftest import RecordFactory


async def test_migrations_reach_newest_version_and_are_idempotent(store: SqlStore) -> None:
    newest = MIGRATIONS[-1].version
    assert await store.schema_version() == newest
    assert await store.migrate() == newest
    assert await store.schema_version() == newest


async def test_empty_catalog(store: SqlStore) -> None:
    assert await store.count_series() == 0
    assert await store.list_series() == []
    assert await store.catalog_version() == 0
    assert await store.get_series("MNG-AAAAAAAA") is None


async def test_upsert_inserts_then_reports_unchanged(
    store: SqlStore, record_factory: RecordFactory
) -> None:
    records = [record_factory(title_ja=f"作品{i}") for i in range(3)]

    first = await store.upsert_series(records)
    second = await store.upsert_series(records)

    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    assert await store.count_series() == 3
    assert await store.catalog_version() == 1  # an unchanged reload does not bump the version


async def test_upsert_updates_changed_record_and_bumps_version(
    store: SqlStore, record_factory: RecordFactory
) -> None:
    original = record_factory(stock=5)
    await store.upsert_series([original])
    restocked = original.model_copy(update={"stock": 0})

    counts = await store.upsert_series([restocked])

    assert (counts.inserted, counts.updated) == (0, 1)
    assert await store.get_series(original.id) == restocked
    assert await store.catalog_version() == 2


async def test_japanese_text_round_trips_exactly(
    store: SqlStore, record_factory: RecordFactory
) -> None:
    # 𠮷 is outside the BMP, the family emoji a ZWJ sequence, ﾊﾝｶｸ half-width katakana.
    record = record_factory(
        title_ja="𠮷野家の👨‍👩‍👧ﾊﾝｶｸ物語",
        synopsis_ja="絵文字🍜と「引用」、全角ＡＢＣ。",
        aliases=["𠮷", "ﾊﾝｶｸ"],
    )
    await store.upsert_series([record])

    loaded = await store.get_series(record.id)

    assert loaded == record
    assert loaded is not None
    assert loaded.title_ja == "𠮷野家の👨‍👩‍👧ﾊﾝｶｸ物語"


async def test_list_is_ordered_by_id_and_complete(
    store: SqlStore, record_factory: RecordFactory
) -> None:
    records = [record_factory(title_ja=f"作品{i}") for i in range(1200)]  # spans several batches
    await store.upsert_series(records)

    listed = await store.list_series()

    assert [r.id for r in listed] == sorted(r.id for r in records)
    assert await store.count_series() == 1200


async def test_upsert_reports_progress_per_batch(
    store: SqlStore, record_factory: RecordFactory
) -> None:
    seen: list[int] = []
    records = [record_factory(title_ja=f"作品{i}") for i in range(1100)]

    await store.upsert_series(records, on_batch=seen.append)

    assert sum(seen) == 1100
    assert len(seen) == 3


async def test_delete_removes_and_bumps_version(
    store: SqlStore, record_factory: RecordFactory
) -> None:
    keep, drop = record_factory(title_ja="残る"), record_factory(title_ja="消える")
    await store.upsert_series([keep, drop])

    assert await store.delete_series([drop.id, "MNG-ZZZZZZZZ"]) == 1
    assert await store.delete_series([drop.id]) == 0

    assert await store.get_series(drop.id) is None
    assert await store.get_series(keep.id) == keep
    assert await store.catalog_version() == 2


async def test_concurrent_upserts_lose_nothing(
    store: SqlStore, record_factory: RecordFactory
) -> None:
    batches = [[record_factory(title_ja=f"並行{b}-{i}") for i in range(50)] for b in range(4)]

    await asyncio.gather(*(store.upsert_series(batch) for batch in batches))

    assert await store.count_series() == 200
    assert await store.catalog_version() == 4


async def test_failure_mid_load_leaves_catalog_unchanged(
    store: SqlStore, record_factory: RecordFactory
) -> None:
    # Given a loaded catalog
    good = record_factory(title_ja="正常")
    await store.upsert_series([good])
    newcomers = [record_factory(title_ja=f"新規{i}") for i in range(700)]  # two batches

    # When the load fails after its first batch was written
    def fail_after_first_batch(size: int) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        await store.upsert_series(newcomers, on_batch=fail_after_first_batch)

    # Then nothing of the failed load is visible
    assert await store.count_series() == 1
    assert await store.get_series(newcomers[0].id) is None
    assert await store.catalog_version() == 1


async def test_ping_and_backend_name(store: SqlStore, store_backend: str) -> None:
    await store.ping()
    assert store.backend == ("postgresql" if store_backend == "postgres" else "sqlite")


async def test_sqlite_database_file_is_in_wal_mode(sqlite_store: SqlStore) -> None:
    # WAL is a property of the file: any other process opening it reads while one writes.
    import sqlite3

    path = sqlite_store.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
