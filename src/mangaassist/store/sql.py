"""The SQL store on SQLAlchemy Core: SQLite (default, WAL) or PostgreSQL, one code path."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import delete, event, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.session import Session, Turn
from mangaassist.store import sql_sessions
from mangaassist.store.base import UpsertCounts
from mangaassist.store.group_commit import GroupCommitter
from mangaassist.store.migrations import (
    CATALOG_VERSION_KEY,
    apply_migrations,
    current_version,
)
from mangaassist.store.schema import series, store_meta
from mangaassist.store.urls import async_url, sqlite_path

__all__ = ["SqlStore"]

#: Rows per statement when upserting; well under SQLite's 32,766 bound parameters.
_BATCH = 500


def _content_hash(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class SqlStore:
    """Store port on SQLAlchemy Core; ``url`` is ``sqlite:///path`` or ``postgresql://...``."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self._url = async_url(url)
        self.backend = self._url.get_backend_name()
        options: dict[str, Any] = {"echo": echo}
        if self.backend == "sqlite":
            path = sqlite_path(self._url)
            if path is None:
                options["poolclass"] = StaticPool
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
        else:
            options.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self._engine: AsyncEngine = create_async_engine(self._url, **options)
        if self.backend == "sqlite":
            event.listen(self._engine.sync_engine, "connect", _sqlite_pragmas)
        self._writes = GroupCommitter(self._engine)

    def __repr__(self) -> str:
        return f"SqlStore({self._url.render_as_string(hide_password=True)!r})"

    async def migrate(self, target: int | None = None) -> int:
        """Apply pending migrations, up to ``target`` when given (tests build old schemas)."""
        async with self._engine.begin() as conn:
            return await conn.run_sync(partial(apply_migrations, target=target))

    async def schema_version(self) -> int:
        async with self._engine.connect() as conn:
            return await conn.run_sync(current_version)

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self._writes.drain()
        await self._engine.dispose()

    # -- catalog -----------------------------------------------------------------------------

    async def upsert_series(
        self,
        records: Sequence[SeriesRecord],
        on_batch: Callable[[int], None] | None = None,
    ) -> UpsertCounts:
        total = UpsertCounts()
        async with self._engine.begin() as conn:
            for start in range(0, len(records), _BATCH):
                batch = records[start : start + _BATCH]
                total += await self._upsert_batch(conn, batch)
                if on_batch is not None:
                    on_batch(len(batch))
            if total.changed:
                await self._bump_version(conn)
        return total

    async def _upsert_batch(
        self, conn: AsyncConnection, records: Sequence[SeriesRecord]
    ) -> UpsertCounts:
        rows: dict[str, dict[str, Any]] = {}
        now = datetime.now(UTC)
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
        existing = dict(
            (
                await conn.execute(
                    select(series.c.id, series.c.content_hash).where(series.c.id.in_(rows))
                )
            ).all()
        )
        changed = [row for key, row in rows.items() if existing.get(key) != row["content_hash"]]
        if changed:
            insert = pg_insert if self.backend == "postgresql" else sqlite_insert
            statement = insert(series)
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[series.c.id],
                    set_={
                        col.name: statement.excluded[col.name]
                        for col in series.columns
                        if col.name != "id"
                    },
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

    async def _bump_version(self, conn: AsyncConnection) -> None:
        await conn.execute(
            store_meta.update()
            .where(store_meta.c.key == CATALOG_VERSION_KEY)
            .values(value=store_meta.c.value + 1)
        )

    async def get_series(self, series_id: str) -> SeriesRecord | None:
        async with self._engine.connect() as conn:
            data = (
                await conn.execute(select(series.c.data).where(series.c.id == series_id))
            ).scalar_one_or_none()
        return None if data is None else SeriesRecord.model_validate(data)

    async def get_series_many(self, series_ids: Sequence[str]) -> dict[str, SeriesRecord]:
        if not series_ids:
            return {}
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(select(series.c.data).where(series.c.id.in_(list(series_ids))))
            ).scalars()
            records = [SeriesRecord.model_validate(data) for data in rows]
        return {record.id: record for record in records}

    async def list_series(self) -> list[SeriesRecord]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(series.c.data).order_by(series.c.id))).scalars()
            return [SeriesRecord.model_validate(data) for data in rows]

    async def count_series(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(series))).scalar_one())

    async def delete_series(self, series_ids: Sequence[str]) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(series).where(series.c.id.in_(list(series_ids))))
            if result.rowcount:
                await self._bump_version(conn)
            return int(result.rowcount)

    async def catalog_version(self) -> int:
        async with self._engine.connect() as conn:
            value = (
                await conn.execute(
                    select(store_meta.c.value).where(store_meta.c.key == CATALOG_VERSION_KEY)
                )
            ).scalar_one_or_none()
        return int(value or 0)

    # -- chat sessions -----------------------------------------------------------------------

    async def append_turns(self, session_id: str, turns: Sequence[Turn], *, now: datetime) -> None:
        async def write(conn: AsyncConnection) -> None:
            await sql_sessions.append_turns(conn, session_id, turns, now=now)

        await self._writes.run(write)

    async def get_session(self, session_id: str, *, max_turns: int | None = None) -> Session | None:
        async with self._engine.connect() as conn:
            return await sql_sessions.get_session(conn, session_id, max_turns=max_turns)

    async def delete_session(self, session_id: str) -> bool:
        async with self._engine.begin() as conn:
            return await sql_sessions.delete_session(conn, session_id)

    async def purge_sessions(self, idle_before: datetime) -> int:
        async with self._engine.begin() as conn:
            return await sql_sessions.purge_sessions(conn, idle_before)
