"""Catalog enrichment jobs: synopsis, tags and recommendations written by a model, per series.

``enqueue_enrichment`` sends one job per series to the FIFO ``manga-enrichment-queue.fifo``:
the message group is the series (its jobs run in order, one at a time), the deduplication id is
series and type, so the same request again within the queue's 5-minute window is dropped and
answers with the first job's id. The message names no job id, so the worker uses the message id:
the id ``enqueue_enrichment`` returns is the id the handler stores with the enrichment, which is
how ``mangaassist catalog enrich`` knows its jobs (and duplicates of earlier ones) finished.

``EnrichmentHandler`` (job kind ``catalog_enrich``) asks the analyzer, stores the answer (parsed
JSON, or the raw text when it was not JSON) with the catalog version bump, tells the catalog
service (the answer cache drops what mentions the series) and publishes
``CatalogUpdate.Enriched``. A store write that fails raises: the job is retried, then
dead-lettered, never reported done.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog

from mangaassist.analysis.base import ENRICHMENT_TYPES, Analyzer, UnknownSeriesError
from mangaassist.catalog.service import CatalogService
from mangaassist.domain.enrichment import SeriesEnrichment
from mangaassist.events.publisher import Event, EventPublisher
from mangaassist.llm.base import ModelError
from mangaassist.queues.base import MAX_BATCH, BatchEntry, QueueBackend, QueueError
from mangaassist.queues.worker import Job, PermanentError, TransientError
from mangaassist.store.base import EnrichmentStore

__all__ = [
    "ENRICHED_EVENT",
    "ENRICHMENT_QUEUE",
    "ENRICH_JOB",
    "ENRICH_TIMEOUT_S",
    "EnrichmentHandler",
    "enqueue_enrichment",
    "enrichment_dedup_id",
]

log = structlog.get_logger("mangaassist.enrichment")

#: The design documents' enrichment queue: FIFO, 5-minute deduplication, 300 s visibility.
ENRICHMENT_QUEUE = "manga-enrichment-queue.fifo"
#: Job kind of one series' enrichment.
ENRICH_JOB = "catalog_enrich"
#: Longest one enrichment may take (a model call and a write); well under the 300 s visibility.
ENRICH_TIMEOUT_S = 120.0
#: Detail-type of the event announcing stored enrichment.
ENRICHED_EVENT = "CatalogUpdate.Enriched"
EVENT_SOURCE = "mangaassist.catalog"


def enrichment_dedup_id(series_id: str, enrichment_type: str) -> str:
    """Deduplication id of a series' enrichment of one type (the FIFO window drops repeats)."""
    return f"{series_id}:{enrichment_type}"


def _body(series_id: str, enrichment_type: str, requested_at: datetime) -> str:
    # No "id": the worker then names the job by its message id, which the sender knows.
    payload = {
        "seriesId": series_id,
        "enrichmentType": enrichment_type,
        "requestedAt": requested_at.isoformat(),
    }
    return json.dumps({"kind": ENRICH_JOB, "payload": payload}, ensure_ascii=False)


async def enqueue_enrichment(
    queues: QueueBackend,
    series_ids: Sequence[str],
    enrichment_type: str,
    *,
    now: datetime | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> list[str]:
    """Send one job per series; return their job ids in order (a duplicate of a job sent within
    the last 5 minutes returns that job's id). Raises ``QueueError`` if a batch entry fails."""
    if enrichment_type not in ENRICHMENT_TYPES:
        raise ValueError(f"unknown enrichment type {enrichment_type!r}")
    requested_at = now or datetime.now(UTC)
    job_ids: list[str] = []
    for start in range(0, len(series_ids), MAX_BATCH):
        batch = series_ids[start : start + MAX_BATCH]
        entries = [
            BatchEntry(
                id=str(position),
                body=_body(series_id, enrichment_type, requested_at),
                group_id=series_id,
                dedup_id=enrichment_dedup_id(series_id, enrichment_type),
                attributes={"enrichmentType": enrichment_type},
            )
            for position, series_id in enumerate(batch)
        ]
        for result in await queues.send_batch(ENRICHMENT_QUEUE, entries):
            if result.message_id is None:
                raise QueueError(f"{result.error_code}: {result.error_message}")
            job_ids.append(result.message_id)
        if on_batch is not None:
            on_batch(len(batch))
    return job_ids


class EnrichmentHandler:
    """Runs ``catalog_enrich`` jobs: analyze, store, tell the catalog, publish."""

    def __init__(
        self,
        analyzer: Analyzer,
        store: EnrichmentStore,
        catalog: CatalogService,
        events: EventPublisher,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._analyzer = analyzer
        self._store = store
        self._catalog = catalog
        self._events = events
        self._clock = clock

    async def __call__(self, job: Job) -> None:
        series_id = job.payload.get("seriesId")
        enrichment_type = job.payload.get("enrichmentType")
        if not isinstance(series_id, str) or not isinstance(enrichment_type, str):
            raise PermanentError(f"not an enrichment job: {dict(job.payload)}")
        if enrichment_type not in ENRICHMENT_TYPES:
            raise PermanentError(f"unknown enrichment type {enrichment_type!r}")
        try:
            result = await self._analyzer.analyze(series_id, enrichment_type)
        except UnknownSeriesError as exc:
            raise PermanentError(str(exc)) from exc
        except ModelError as exc:
            raise TransientError(f"the model could not answer: {exc}") from exc
        enrichment = SeriesEnrichment(
            series_id=series_id,
            enrichment_type=enrichment_type,
            data=result.data,
            raw_text=result.raw_text,
            model_id=result.model_id,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            cost_usd=result.cost_usd,
            job_id=job.id,
            updated_at=self._clock(),
        )
        try:
            version = await self._store.put_enrichment(enrichment)
        except Exception:
            # Never swallowed: the job fails, is retried, then dead-lettered with the reason.
            log.exception(
                "enrichment_store_failed", series_id=series_id, type=enrichment_type, job_id=job.id
            )
            raise
        await self._catalog.changed((series_id,), reindex=False)
        await self._events.publish(
            Event(
                ENRICHED_EVENT,
                {
                    "seriesIds": [series_id],
                    "enrichmentType": enrichment_type,
                    "parsed": result.parsed,
                    "modelId": result.model_id,
                    "costUsd": result.cost_usd,
                    "catalogVersion": version,
                    "jobId": job.id,
                },
                source=EVENT_SOURCE,
            )
        )
        log.info(
            "enrichment_stored", series_id=series_id, type=enrichment_type, job_id=job.id,
            parsed=result.parsed, catalog_version=version,
        )  # fmt: skip
