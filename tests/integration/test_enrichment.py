"""Catalog enrichment end to end: the CLI, the worker, the store, the caches, the API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from typer.testing import CliRunner

from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.catalog.enrichment import ENRICHED_EVENT, ENRICHMENT_QUEUE, enqueue_enrichment
from mangaassist.chat.answer import ChatQuestion
from mangaassist.cli import app
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.enrichment import SeriesEnrichment
from mangaassist.queues.topology import FIFO_DLQ
from mangaassist.queues.worker import Worker
from mangaassist.settings import Settings
from mangaassist.store.sql import SqlStore

T = TypeVar("T")
runner = CliRunner()


def by_title(curated: list[SeriesRecord], title_ja: str) -> SeriesRecord:
    return next(r for r in curated if r.title_ja == title_ja)


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(store_url=f"sqlite:///{tmp_path / 'store.db'}", **overrides)


def in_store(tmp_path: Path, work: Callable[[Container], Awaitable[T]]) -> T:
    """Run ``work`` against the store the CLI used (a second process would see the same)."""

    async def run() -> T:
        container = build(_settings(tmp_path))
        try:
            return await work(container)
        finally:
            await container.close()

    return asyncio.run(run())


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 20) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.05)


# -- the command --------------------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MANGAASSIST_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    loaded = runner.invoke(app, ["catalog", "load"])
    assert loaded.exit_code == 0, loaded.output
    return tmp_path


def test_enrich_stores_the_fields_and_a_repeat_within_5_minutes_is_dropped(
    cli_store: Path, curated: list[SeriesRecord]
) -> None:
    frieren = by_title(curated, "葬送のフリーレン")
    slime = by_title(curated, "転生したらスライムだった件")
    before = in_store(cli_store, lambda c: c.store.catalog_version())

    # When tags are requested for two series
    first = runner.invoke(
        app, ["catalog", "enrich", "--type", "tags", "--ids", f"{frieren.id},{slime.id}"]
    )

    # Then both are stored, with a progress bar to completion, and the version moved twice
    assert first.exit_code == 0, first.output
    assert f"Queued 2 tags jobs on {ENRICHMENT_QUEUE}" in first.output
    assert "Enriching (tags)" in first.output
    assert "2/2" in first.output
    assert "Enriched 2 of 2 series (tags)" in first.output
    stored: list[SeriesEnrichment] = in_store(
        cli_store, lambda c: c.store.get_enrichment(frieren.id)
    )
    [tags] = stored
    assert tags.enrichment_type == "tags"
    assert tags.data is not None
    assert tags.data["tags_ja"][0] == "少年漫画"
    assert len(tags.data["tags_en"]) == len(tags.data["tags_ja"]) == 1 + len(frieren.tags)
    assert tags.model_id == "offline"
    assert tags.cost_usd == 0.0
    after = in_store(cli_store, lambda c: c.store.catalog_version())
    assert after == before + 2

    # When the same request comes again within the 5-minute window
    again = runner.invoke(app, ["catalog", "enrich", "--type", "tags", "--ids", frieren.id])

    # Then it is dropped: nothing runs again, nothing changes, and the command says why
    assert again.exit_code == 0, again.output
    assert "1 already enriched by the same request within the last 5 minutes" in again.output
    [unchanged] = in_store(cli_store, lambda c: c.store.get_enrichment(frieren.id))
    assert unchanged.job_id == tags.job_id
    assert unchanged.updated_at == tags.updated_at
    assert in_store(cli_store, lambda c: c.store.catalog_version()) == after


def test_without_a_worker_it_times_out_clearly_and_a_later_run_finishes_the_job(
    cli_store: Path, curated: list[SeriesRecord]
) -> None:
    frieren = by_title(curated, "葬送のフリーレン")
    args = ["catalog", "enrich", "--type", "synopsis", "--ids", frieren.id]

    waiting = runner.invoke(app, [*args, "--no-worker", "--timeout", "1"])
    finished = runner.invoke(app, args)  # the duplicate is dropped; its worker runs the first

    assert waiting.exit_code == 1
    assert "Timed out after 1 s: 1 of 1 jobs are not finished yet" in waiting.output
    assert "--no-worker" in waiting.output
    assert finished.exit_code == 0, finished.output
    assert "Enriched 1 of 1 series (synopsis)" in finished.output
    [synopsis] = in_store(cli_store, lambda c: c.store.get_enrichment(frieren.id))
    assert synopsis.data is not None
    assert synopsis.data["synopsis_ja"].startswith(frieren.synopsis_ja)


def test_unknown_ids_or_no_selection_queue_nothing(cli_store: Path) -> None:
    unknown = runner.invoke(app, ["catalog", "enrich", "--type", "tags", "--ids", "MNG-NOSUCH00"])
    neither = runner.invoke(app, ["catalog", "enrich", "--type", "tags"])
    bad_type = runner.invoke(app, ["catalog", "enrich", "--type", "horoscope", "--all"])

    assert unknown.exit_code == 1
    assert "Not in the catalog: MNG-NOSUCH00; nothing was queued" in unknown.output
    assert neither.exit_code == 2
    assert "--all or --ids" in neither.output
    assert bad_type.exit_code == 2


def test_a_failing_store_write_fails_the_jobs_loudly(
    cli_store: Path, curated: list[SeriesRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: SqlStore, enrichment: SeriesEnrichment) -> int:
        raise OSError("disk I/O error")

    monkeypatch.setattr(SqlStore, "put_enrichment", broken)
    frieren = by_title(curated, "葬送のフリーレン")

    result = runner.invoke(
        app, ["catalog", "enrich", "--type", "tags", "--ids", frieren.id, "--timeout", "60"]
    )

    assert result.exit_code == 1
    assert "Enriched 0 of 1 series" in result.output
    assert "1 jobs failed and went to the dead-letter queue" in result.output


# -- the worker, the caches and the events, in one process ---------------------------------------


@pytest.fixture
async def container(tmp_path: Path, curated: list[SeriesRecord]) -> AsyncIterator[Container]:
    # A long refresh interval: the index (and the cache key's version) stay as they are, so
    # only the product-aware invalidation can make a cached answer go.
    built = build(_settings(tmp_path, catalog_refresh_s=3600))
    await built.start()
    await built.catalog.upsert(curated)
    yield built
    await built.close()


async def run_jobs(container: Container, done: Callable[[], Awaitable[bool]]) -> Worker:
    worker = Worker(
        container.queues, container.jobs, [ENRICHMENT_QUEUE], wait_s=0.1, retry_base_s=0.01
    )
    running = asyncio.create_task(worker.run())
    try:
        await until(done)
    finally:
        worker.stop()
        await running
    return worker


async def test_enrichment_drops_cached_answers_for_the_product_and_announces_itself(
    container: Container, curated: list[SeriesRecord]
) -> None:
    frieren = by_title(curated, "葬送のフリーレン")
    question = ChatQuestion("葬送のフリーレンについて教えてください")
    first = await container.chat.answer(question)
    cached = await container.chat.answer(question)
    assert frieren in first.products
    assert cached.cached
    version = await container.store.catalog_version()

    [job_id] = await enqueue_enrichment(container.queues, [frieren.id], "recommendations")
    await run_jobs(container, lambda: _done(container, job_id))

    after = await container.chat.answer(question)
    assert not after.cached  # the cached answer mentioning Frieren was dropped
    assert await container.store.catalog_version() == version + 1
    [event] = [e for e in container.events.recent if e.detail_type == ENRICHED_EVENT]
    assert event.detail["seriesIds"] == [frieren.id]
    assert event.detail["enrichmentType"] == "recommendations"
    assert event.detail["catalogVersion"] == version + 1
    [stored] = await container.catalog.enrichment(frieren.id)
    assert stored.data is not None
    ids = {r.id for r in curated}
    picks = [item["id"] for item in stored.data["recommendations"]]
    assert len(picks) == 5
    assert set(picks) <= ids - {frieren.id}


async def _done(container: Container, job_id: str) -> bool:
    return bool(await container.store.enrichment_jobs_done([job_id]))


async def test_a_store_write_failure_is_retried_then_dead_lettered_never_done(
    container: Container, curated: list[SeriesRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(enrichment: SeriesEnrichment) -> int:
        raise OSError("disk I/O error")

    monkeypatch.setattr(container.store, "put_enrichment", broken)
    version = await container.store.catalog_version()
    [job_id] = await enqueue_enrichment(container.queues, [curated[0].id], "synopsis")

    async def dead_lettered() -> bool:
        return (await container.queues.attributes(FIFO_DLQ)).visible == 1

    worker = await run_jobs(container, dead_lettered)

    assert worker.stats.succeeded == 0
    # Tried as often as the redrive policy allows (3), then parked with its reason
    assert (worker.stats.retried, worker.stats.dead_lettered) == (2, 1)
    assert await container.store.enrichment_jobs_done([job_id]) == []
    assert await container.store.catalog_version() == version
    assert not [e for e in container.events.recent if e.detail_type == ENRICHED_EVENT]


async def test_the_product_page_shows_enrichment_a_running_server_stored(
    tmp_path: Path, curated: list[SeriesRecord]
) -> None:
    container = build(_settings(tmp_path))
    frieren = by_title(curated, "葬送のフリーレン")
    slime = by_title(curated, "転生したらスライムだった件")
    application = create_app(container=container)
    async with application.router.lifespan_context(application):  # with its embedded worker
        await container.catalog.upsert(curated)
        [job_id] = await enqueue_enrichment(container.queues, [frieren.id], "tags")
        await until(lambda: _done(container, job_id))
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            enriched = (await client.get(f"/v1/catalog/{frieren.id}")).json()
            plain = (await client.get(f"/v1/catalog/{slime.id}")).json()

    tags = enriched["enrichment"]["tags"]
    assert tags["data"]["tags_ja"][0] == "少年漫画"
    assert tags["rawText"] is None
    assert tags["model"] == "offline"
    assert enriched["titleJa"] == "葬送のフリーレン"
    assert plain["enrichment"] == {}
