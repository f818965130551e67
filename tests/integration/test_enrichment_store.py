"""The enrichment part of the store port, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.enrichment import SeriesEnrichment
from mangaassist.store.sql import SqlStore
from tests.conftest import make_record

NOW = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


def enrichment(record: SeriesRecord, **overrides: Any) -> SeriesEnrichment:
    fields: dict[str, Any] = {
        "series_id": record.id,
        "enrichment_type": "tags",
        "data": {"tags_en": ["action"], "tags_ja": ["アクション", "𠮷野家"]},
        "raw_text": '{"tags_en": ["action"], "tags_ja": ["アクション", "𠮷野家"]}',
        "model_id": "offline",
        "input_tokens": 120,
        "output_tokens": 40,
        "cost_usd": 0.0,
        "job_id": "job-1",
        "updated_at": NOW,
    }
    fields.update(overrides)
    return SeriesEnrichment(**fields)


async def test_enrichment_round_trips_and_bumps_the_catalog_version(store: SqlStore) -> None:
    record = make_record()
    await store.upsert_series([record])
    before = await store.catalog_version()

    version = await store.put_enrichment(enrichment(record))
    raw = enrichment(record, enrichment_type="synopsis", data=None, raw_text="あらすじです。")
    await store.put_enrichment(raw)

    assert version == before + 1
    assert await store.catalog_version() == before + 2
    assert await store.get_enrichment(record.id) == [raw, enrichment(record)]  # by type
    assert await store.get_enrichment("MNG-NOSUCH00") == []


async def test_a_new_enrichment_of_a_type_replaces_the_old_one(store: SqlStore) -> None:
    record = make_record()
    await store.upsert_series([record])
    await store.put_enrichment(enrichment(record))
    newer = enrichment(
        record, data={"tags_en": ["drama"]}, job_id="job-2", updated_at=NOW + timedelta(hours=1)
    )

    await store.put_enrichment(newer)

    assert await store.get_enrichment(record.id) == [newer]
    done = await store.enrichment_jobs_done(["job-1", "job-2", "job-3"])
    assert [(d.job_id, d.series_id, d.parsed) for d in done] == [("job-2", record.id, True)]


async def test_jobs_done_tells_json_from_raw_text(store: SqlStore) -> None:
    record = make_record()
    await store.upsert_series([record])
    await store.put_enrichment(enrichment(record, data=None, raw_text="not json", job_id="raw"))

    [done] = await store.enrichment_jobs_done(["raw"])

    assert not done.parsed
    assert done.updated_at == NOW
    assert await store.enrichment_jobs_done([]) == []


async def test_reloading_the_catalog_keeps_enrichment_deleting_the_series_drops_it(
    store: SqlStore,
) -> None:
    record = make_record()
    await store.upsert_series([record])
    await store.put_enrichment(enrichment(record))

    await store.upsert_series([record.model_copy(update={"stock": 0})])
    kept = await store.get_enrichment(record.id)
    await store.delete_series([record.id])

    assert kept == [enrichment(record)]
    assert await store.get_enrichment(record.id) == []
