"""The SQL store on SQLAlchemy Core: SQLite (default, WAL) or PostgreSQL, one code path.

Each operation is a function of a synchronous Core connection (``sql_catalog``,
``sql_sessions``, ``migrations``); an ``Executor`` runs it the fast way for the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, text

from mangaassist.domain.batch import BatchItem, BatchRequest, ItemFailure, ItemResult
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.enrichment import EnrichmentDone, SeriesEnrichment
from mangaassist.domain.event_records import ArchivedEvent, ArchiveRow, EndpointHealth, StoredRule
from mangaassist.domain.session import Session, Turn
from mangaassist.domain.webhook import ClaimOutcome
from mangaassist.store import (
    sql_batches,
    sql_catalog,
    sql_enrichment,
    sql_events,
    sql_idempotency,
    sql_sessions,
)
from mangaassist.store.base import UpsertCounts
from mangaassist.store.executor import Executor, executor_for
from mangaassist.store.group_commit import GroupCommitter
from mangaassist.store.migrations import apply_migrations, current_version
from mangaassist.store.urls import async_url

__all__ = ["SqlStore"]


def _ping(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))


class SqlStore:
    """Store port on SQLAlchemy Core; ``url`` is ``sqlite:///path`` or ``postgresql://...``."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self._url = async_url(url)
        self._run = executor_for(self._url, echo=echo)
        self.backend = self._run.backend
        self._writes = GroupCommitter(self._run)

    def __repr__(self) -> str:
        return f"SqlStore({self._url.render_as_string(hide_password=True)!r})"

    @property
    def executor(self) -> Executor:
        """Runs reads and writes on this store's engine, pool and (SQLite) write lock, for
        adapters of other ports kept in the same database (the API key ring)."""
        return self._run

    async def migrate(self, target: int | None = None) -> int:
        """Apply pending migrations, up to ``target`` when given (tests build old schemas)."""
        return await self._run.write(partial(apply_migrations, target=target))

    async def schema_version(self) -> int:
        return await self._run.read(current_version)

    async def ping(self) -> None:
        await self._run.read(_ping)

    async def close(self) -> None:
        await self._writes.drain()
        await self._run.dispose()

    # -- catalog -----------------------------------------------------------------------------

    async def upsert_series(
        self,
        records: Sequence[SeriesRecord],
        on_batch: Callable[[int], None] | None = None,
    ) -> UpsertCounts:
        work = partial(sql_catalog.upsert_series, records=records, on_batch=on_batch)
        return await self._run.write(work, bulk=True)

    async def get_series(self, series_id: str) -> SeriesRecord | None:
        return (await self.get_series_many([series_id])).get(series_id)

    async def get_series_many(self, series_ids: Sequence[str]) -> dict[str, SeriesRecord]:
        return await self._run.read(partial(sql_catalog.get_series_many, series_ids=series_ids))

    async def list_series(self) -> list[SeriesRecord]:
        return await self._run.read(sql_catalog.list_series, bulk=True)

    async def count_series(self) -> int:
        return await self._run.read(sql_catalog.count_series)

    async def delete_series(self, series_ids: Sequence[str]) -> int:
        return await self._run.write(partial(sql_catalog.delete_series, series_ids=series_ids))

    async def catalog_version(self) -> int:
        return await self._run.read(sql_catalog.catalog_version)

    # -- series enrichment -------------------------------------------------------------------

    async def put_enrichment(self, enrichment: SeriesEnrichment) -> int:
        return await self._run.write(partial(sql_enrichment.put_enrichment, enrichment=enrichment))

    async def get_enrichment(self, series_id: str) -> list[SeriesEnrichment]:
        return await self._run.read(partial(sql_enrichment.get_enrichment, series_id=series_id))

    async def enrichment_jobs_done(self, job_ids: Sequence[str]) -> list[EnrichmentDone]:
        return await self._run.read(partial(sql_enrichment.enrichment_jobs_done, job_ids=job_ids))

    # -- event bus ---------------------------------------------------------------------------

    async def list_event_rules(self) -> list[StoredRule]:
        return await self._run.read(sql_events.list_event_rules)

    async def put_event_rule(self, name: str, config: dict[str, Any], *, now: datetime) -> bool:
        return await self._run.write(
            partial(sql_events.put_event_rule, name=name, config=config, now=now)
        )

    async def delete_event_rule(self, name: str) -> bool:
        return await self._run.write(partial(sql_events.delete_event_rule, name=name))

    async def archive_events(self, rows: Sequence[ArchiveRow]) -> None:
        # Every published event is archived: concurrent publishes share a transaction.
        await self._writes.run(partial(sql_events.archive_events, rows=rows))

    async def archived_events(
        self, archive: str, start: datetime, end: datetime, *, after_seq: int = 0, limit: int = 500
    ) -> list[ArchivedEvent]:
        return await self._run.read(
            partial(
                sql_events.archived_events,
                archive=archive,
                start=start,
                end=end,
                after_seq=after_seq,
                limit=limit,
            )
        )

    async def purge_archive(self, now: datetime) -> int:
        return await self._run.write(partial(sql_events.purge_archive, now=now))

    async def get_endpoint(self, url: str) -> EndpointHealth | None:
        return await self._run.read(partial(sql_events.get_endpoint, url=url))

    async def list_endpoints(self) -> list[EndpointHealth]:
        return await self._run.read(sql_events.list_endpoints)

    async def endpoint_failed(
        self, url: str, *, now: datetime, error: str, disable_after: timedelta
    ) -> EndpointHealth:
        return await self._run.write(
            partial(
                sql_events.endpoint_failed,
                url=url,
                now=now,
                error=error,
                disable_after=disable_after,
            )
        )

    async def endpoint_succeeded(self, url: str) -> None:
        await self._run.write(partial(sql_events.endpoint_succeeded, url=url))

    async def enable_endpoint(self, url: str) -> bool:
        return await self._run.write(partial(sql_events.enable_endpoint, url=url))

    # -- inbound webhook idempotency ---------------------------------------------------------

    async def claim_webhook(
        self, source: str, key: str, *, now: datetime, lease_s: float, ttl_s: float
    ) -> ClaimOutcome:
        work = partial(
            sql_idempotency.claim_webhook,
            source=source,
            key=key,
            now=now,
            lease_s=lease_s,
            ttl_s=ttl_s,
        )
        return await self._run.write(work)

    async def complete_webhook(
        self,
        source: str,
        key: str,
        result: dict[str, Any],
        *,
        now: datetime,
        ttl_s: float,
        token: str | None = None,
    ) -> bool:
        work = partial(
            sql_idempotency.complete_webhook,
            source=source,
            key=key,
            result=result,
            now=now,
            ttl_s=ttl_s,
            token=token,
        )
        return await self._run.write(work)

    async def release_webhook(self, source: str, key: str, *, token: str | None = None) -> bool:
        work = partial(sql_idempotency.release_webhook, source=source, key=key, token=token)
        return await self._run.write(work)

    async def purge_webhook_keys(self, before: datetime) -> int:
        return await self._run.write(partial(sql_idempotency.purge_webhook_keys, before=before))

    # -- chat sessions -----------------------------------------------------------------------

    async def append_turns(self, session_id: str, turns: Sequence[Turn], *, now: datetime) -> None:
        await self._writes.run(
            partial(sql_sessions.append_turns, session_id=session_id, turns=turns, now=now)
        )

    async def get_session(self, session_id: str, *, max_turns: int | None = None) -> Session | None:
        return await self._run.read(
            partial(sql_sessions.get_session, session_id=session_id, max_turns=max_turns)
        )

    async def delete_session(self, session_id: str) -> bool:
        return await self._run.write(partial(sql_sessions.delete_session, session_id=session_id))

    async def purge_sessions(self, idle_before: datetime) -> int:
        return await self._run.write(partial(sql_sessions.purge_sessions, idle_before=idle_before))

    # -- batch analysis ----------------------------------------------------------------------

    async def create_batch(self, batch: BatchRequest, items: Sequence[BatchItem]) -> None:
        await self._run.write(partial(sql_batches.create_batch, batch=batch, items=items))

    async def get_batch_item(self, request_id: str) -> BatchItem | None:
        return await self._run.read(partial(sql_batches.get_item, request_id=request_id))

    async def mark_enqueued(self, request_ids: Sequence[str], *, now: datetime) -> None:
        await self._run.write(partial(sql_batches.mark_enqueued, request_ids=request_ids, now=now))

    async def start_batch_item(self, request_id: str, *, now: datetime) -> BatchItem | None:
        return await self._run.write(
            partial(sql_batches.start_item, request_id=request_id, now=now)
        )

    async def complete_batch_item(
        self, request_id: str, result: ItemResult, *, now: datetime
    ) -> bool:
        return await self._run.write(
            partial(sql_batches.complete_item, request_id=request_id, result=result, now=now)
        )

    async def fail_batch_item(
        self, request_id: str, failure: ItemFailure, *, now: datetime
    ) -> bool:
        return await self._run.write(
            partial(sql_batches.fail_item, request_id=request_id, failure=failure, now=now)
        )

    async def set_callback_state(
        self,
        request_id: str,
        state: str,
        *,
        now: datetime,
        error: str | None = None,
        attempted: bool = False,
    ) -> None:
        await self._run.write(
            partial(
                sql_batches.set_callback_state,
                request_id=request_id,
                state=state,
                now=now,
                error=error,
                attempted=attempted,
            )
        )

    async def list_unenqueued(self, created_before: datetime, limit: int) -> list[BatchItem]:
        return await self._run.read(
            partial(sql_batches.list_unenqueued, created_before=created_before, limit=limit)
        )

    async def list_unsent_callbacks(self, updated_before: datetime, limit: int) -> list[BatchItem]:
        return await self._run.read(
            partial(sql_batches.list_unsent_callbacks, updated_before=updated_before, limit=limit)
        )
