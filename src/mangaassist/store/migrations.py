"""Versioned schema migrations, applied in order and recorded in ``schema_migrations``.

Each migration is a function of a synchronous SQLAlchemy connection, run inside one transaction
with its version row, so a migration is applied entirely or not at all. Several processes may
start at once: on PostgreSQL they serialize on an advisory lock; on SQLite the write lock does it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, inspect, select, text

from mangaassist.store.schema import (
    api_keys,
    batch_items,
    batch_requests,
    chat_sessions,
    chat_turns,
    event_archive,
    event_rules,
    schema_migrations,
    series,
    series_enrichment,
    store_meta,
    webhook_endpoints,
    webhook_idempotency,
)

__all__ = ["CATALOG_VERSION_KEY", "MIGRATIONS", "Migration", "apply_migrations", "current_version"]

#: Row of ``store_meta`` whose value grows with every catalog change.
CATALOG_VERSION_KEY = "catalog_version"

#: Arbitrary constant key of the PostgreSQL advisory lock that serializes migrations.
_PG_MIGRATION_LOCK = 0x4D414E4741


@dataclass(frozen=True)
class Migration:
    """One schema step."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_catalog(conn: Connection) -> None:
    store_meta.create(conn, checkfirst=True)
    series.create(conn, checkfirst=True)
    # The version row exists from the start, so every bump is an UPDATE that locks the row:
    # two first loads racing cannot both insert it.
    conn.execute(store_meta.insert().values(key=CATALOG_VERSION_KEY, value=0))


def _create_chat_sessions(conn: Connection) -> None:
    # Table.create also emits the table's indexes (chat_sessions.last_active_at).
    chat_sessions.create(conn, checkfirst=True)
    chat_turns.create(conn, checkfirst=True)


def _create_batches(conn: Connection) -> None:
    batch_requests.create(conn, checkfirst=True)
    batch_items.create(conn, checkfirst=True)


def _create_series_enrichment(conn: Connection) -> None:
    series_enrichment.create(conn, checkfirst=True)


def _create_webhook_idempotency(conn: Connection) -> None:
    webhook_idempotency.create(conn, checkfirst=True)


def _create_event_bus(conn: Connection) -> None:
    event_rules.create(conn, checkfirst=True)
    event_archive.create(conn, checkfirst=True)
    webhook_endpoints.create(conn, checkfirst=True)


def _create_api_keys(conn: Connection) -> None:
    api_keys.create(conn, checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "catalog series and store metadata", _create_catalog),
    Migration(2, "chat sessions and their turns", _create_chat_sessions),
    Migration(3, "batch requests and their results", _create_batches),
    Migration(4, "series enrichment", _create_series_enrichment),
    Migration(5, "webhook idempotency", _create_webhook_idempotency),
    Migration(6, "event rules, event archive and webhook endpoint health", _create_event_bus),
    Migration(7, "API keys (prefixes and hashes)", _create_api_keys),
)


def current_version(conn: Connection) -> int:
    """The newest applied version, 0 when the database is empty."""
    if not inspect(conn).has_table(schema_migrations.name):
        return 0
    versions = conn.execute(select(schema_migrations.c.version)).scalars().all()
    return max(versions, default=0)


def apply_migrations(conn: Connection, target: int | None = None) -> int:
    """Apply pending migrations up to ``target`` (default: all); return the resulting version.

    Must run inside a transaction (``engine.begin()``). A ``target`` below the current version
    changes nothing: migrations only go forward. Tests use it to build an older schema.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    elif conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
        # Take the write lock before reading the version: pysqlite would begin the transaction
        # only at the first insert, after two processes starting together had both read the
        # same version and both created the same tables. The second now waits, then finds the
        # migrations applied.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    schema_migrations.create(conn, checkfirst=True)
    version = current_version(conn)
    for migration in MIGRATIONS:
        if migration.version <= version:
            continue
        if target is not None and migration.version > target:
            break
        migration.apply(conn)
        conn.execute(
            schema_migrations.insert().values(
                version=migration.version,
                description=migration.description,
                applied_at=datetime.now(UTC),
            )
        )
        version = migration.version
    return version
