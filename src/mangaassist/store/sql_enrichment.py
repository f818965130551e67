"""Series enrichment of the SQL store: functions of a synchronous Core connection.

One row per series and enrichment type, replaced by each new enrichment. Writing one bumps the
catalog version in the same transaction, so every process's catalog service notices the change
(and its answer cache keys move on) exactly when the row is there to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mangaassist.domain.enrichment import EnrichmentDone, SeriesEnrichment
from mangaassist.store.schema import series_enrichment
from mangaassist.store.sql_catalog import BATCH, bump_version, catalog_version

__all__ = ["enrichment_jobs_done", "get_enrichment", "put_enrichment"]


def _row(enrichment: SeriesEnrichment) -> dict[str, Any]:
    return {
        "series_id": enrichment.series_id,
        "enrichment_type": enrichment.enrichment_type,
        "data": enrichment.data,
        "raw_text": enrichment.raw_text,
        "model_id": enrichment.model_id,
        "input_tokens": enrichment.input_tokens,
        "output_tokens": enrichment.output_tokens,
        "cost_usd": enrichment.cost_usd,
        "job_id": enrichment.job_id,
        "updated_at": enrichment.updated_at,
    }


def put_enrichment(conn: Connection, enrichment: SeriesEnrichment) -> int:
    """Insert or replace the enrichment, bump the catalog version; return the new version."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    row = _row(enrichment)
    statement = insert(series_enrichment).values(row)
    keys = ("series_id", "enrichment_type")
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: statement.excluded[name] for name in row if name not in keys},
        )
    )
    bump_version(conn)
    return catalog_version(conn)


def get_enrichment(conn: Connection, series_id: str) -> list[SeriesEnrichment]:
    """The enrichments of a series, by type."""
    rows = conn.execute(
        select(series_enrichment)
        .where(series_enrichment.c.series_id == series_id)
        .order_by(series_enrichment.c.enrichment_type)
    ).mappings()
    return [SeriesEnrichment(**dict(row)) for row in rows]


def enrichment_jobs_done(conn: Connection, job_ids: Sequence[str]) -> list[EnrichmentDone]:
    """The jobs among ``job_ids`` whose enrichment is stored (and still the current one)."""
    t = series_enrichment.c
    done: list[EnrichmentDone] = []
    for start in range(0, len(job_ids), BATCH):
        batch = list(job_ids[start : start + BATCH])
        rows = conn.execute(
            select(t.job_id, t.series_id, t.data.is_not(None), t.updated_at).where(
                t.job_id.in_(batch)
            )
        ).all()
        done.extend(EnrichmentDone(*row) for row in rows)
    return done
