"""Tables of the SQL store, in SQLAlchemy Core. Changes go through ``migrations.py``."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "MAX_SESSION_ID_LENGTH",
    "UtcDateTime",
    "chat_sessions",
    "chat_turns",
    "metadata",
    "schema_migrations",
    "series",
    "store_meta",
]

#: Longest accepted chat session id; PostgreSQL enforces the column length, SQLite does not,
#: so the store checks it itself to behave the same on both.
MAX_SESSION_ID_LENGTH = 64


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC and read back as UTC on every backend.

    SQLite has no time zone type: SQLAlchemy writes the wall-clock digits and drops the offset,
    so 09:00+09:00 and 09:00Z would collide. Converting to UTC before writing keeps the stored
    text comparable (purges use ``<``) and the value exact. Naive datetimes are refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: the stored digits are UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

series = Table(
    "catalog_series",
    metadata,
    Column("id", String(12), primary_key=True),
    Column("title", Text, nullable=False),
    Column("title_ja", Text, nullable=False),
    Column("genre", String(16), nullable=False, index=True),
    Column("stock", Integer, nullable=False),
    Column("price_jpy", Integer, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

chat_sessions = Table(
    "chat_sessions",
    metadata,
    Column("session_id", String(MAX_SESSION_ID_LENGTH), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_active_at", UtcDateTime, nullable=False),
    # Expiry purges delete by idle time; without the index each purge scans every session.
    Index("ix_chat_sessions_last_active_at", "last_active_at"),
)

chat_turns = Table(
    "chat_turns",
    metadata,
    Column(
        "session_id",
        String(MAX_SESSION_ID_LENGTH),
        ForeignKey("chat_sessions.session_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # Free-form labels are Text: a length limit PostgreSQL enforces and SQLite ignores would
    # make the same append fail on one backend only.
    Column("language", Text, nullable=False),
    Column("intent", Text, nullable=False),
    Column("product_ids", JSON, nullable=False),
    Column("tokens", Integer, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("cancelled", Boolean, nullable=False),
)
