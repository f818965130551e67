"""Catalog queries of the SQL store: functions of a synchronous Core connection.

``SqlStore`` decides where they run and owns the transactions; the semantics are those of
``mangaassist.store.base.CatalogStore``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mangaassist.domain.catalog import SeriesRecord
from mangaassist.store.base import UpsertCounts
from mangaassist.store.migrations import CATALOG_VERSION_KEY
from mangaassist.store.schema import series, store_meta

__all__ = [
    "bump_version",
    "catalog_version",
    "count_series",
    "delete_series",
    "get_series_many",
    "list_series",
    "upsert_series",
]

#: Rows per statement when upserting; well under SQLite's 32,766 bound parameters.
BATCH = 500


def _content_hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _rows(records: Sequence[SeriesRecord]) -> dict[str, dict[str, Any]]:
    now = datetime.now(UTC)
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        data = record.model_dump(mode="json")
        rows[record.id] = {
            "id": record.id,
            "title": record.title,
            "title_ja": record.title_ja,
            "genre": record.genre.value,
            "stock": record.stock,
            "price_jpy": record.price_jpy,
            "content_hash": _content_hash(data),
            "data": data,
            "updated_at": now,
        }
    return rows


def _upsert_batch(conn: Connection, records: Sequence[SeriesRecord]) -> UpsertCounts:
    rows = _rows(records)
    existing = dict(
        conn.execute(select(series.c.id, series.c.content_hash).where(series.c.id.in_(rows))).all()
    )
    changed = [row for key, row in rows.items() if existing.get(key) != row["content_hash"]]
    if changed:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(series)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[series.c.id],
                set_={c.name: statement.excluded[c.name] for c in series.columns if c.name != "id"},
            ),
            changed,
        )
    inserted = sum(1 for row in changed if row["id"] not in existing)
    return UpsertCounts(
        inserted,
        len(changed) - inserted,
        len(rows) - len(changed),
        tuple(row["id"] for row in changed),
    )


def bump_version(conn: Connection) -> None:
    """Make every process's catalog service see a change (its index and answer cache keys)."""
    conn.execute(
        store_meta.update()
        .where(store_meta.c.key == CATALOG_VERSION_KEY)
        .values(value=store_meta.c.value + 1)
    )


def upsert_series(
    conn: Connection,
    records: Sequence[SeriesRecord],
    on_batch: Callable[[int], None] | None = None,
) -> UpsertCounts:
    """Insert or update ``records`` in batches; bump the version if anything changed."""
    total = UpsertCounts()
    for start in range(0, len(records), BATCH):
        batch = records[start : start + BATCH]
        total += _upsert_batch(conn, batch)
        if on_batch is not None:
            on_batch(len(batch))
    if total.changed:
        bump_version(conn)
    return total


def get_series_many(conn: Connection, series_ids: Sequence[str]) -> dict[str, SeriesRecord]:
    """The series that exist among ``series_ids``, by id."""
    if not series_ids:
        return {}
    rows = conn.execute(select(series.c.data).where(series.c.id.in_(list(series_ids)))).scalars()
    records = [SeriesRecord.model_validate(data) for data in rows]
    return {record.id: record for record in records}


def list_series(conn: Connection) -> list[SeriesRecord]:
    """Every series, ordered by id."""
    rows = conn.execute(select(series.c.data).order_by(series.c.id)).scalars()
    return [SeriesRecord.model_validate(data) for data in rows]


def count_series(conn: Connection) -> int:
    """How many series there are."""
    return int(conn.execute(select(func.count()).select_from(series)).scalar_one())


def delete_series(conn: Connection, series_ids: Sequence[str]) -> int:
    """Delete series by id; bump the version if any existed."""
    result = conn.execute(delete(series).where(series.c.id.in_(list(series_ids))))
    if result.rowcount:
        bump_version(conn)
    return int(result.rowcount)


def catalog_version(conn: Connection) -> int:
    """The catalog version (0 before any load)."""
    value = conn.execute(
        select(store_meta.c.value).where(store_meta.c.key == CATALOG_VERSION_KEY)
    ).scalar_one_or_none()
    return int(value or 0)
