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
    Float,
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
    "MAX_WEBHOOK_KEY_LENGTH",
    "UtcDateTime",
    "api_keys",
    "batch_items",
    "batch_requests",
    "chat_sessions",
    "chat_turns",
    "event_archive",
    "event_rules",
    "metadata",
    "schema_migrations",
    "series",
    "series_enrichment",
    "store_meta",
    "webhook_endpoints",
    "webhook_idempotency",
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

batch_requests = Table(
    "batch_requests",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("priority", Text, nullable=False),
    Column("queue", Text, nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("callback_url", Text, nullable=True),
    Column("notification", JSON, nullable=True),
)

batch_items = Table(
    "batch_items",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column(
        "batch_id",
        String(64),
        ForeignKey("batch_requests.batch_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("manga_id", Text, nullable=False),
    Column("analysis_type", Text, nullable=False),
    Column("additional_context", Text, nullable=True),
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("enqueued_at", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("result_data", JSON, nullable=True),
    Column("raw_text", Text, nullable=True),
    Column("model_id", Text, nullable=True),
    Column("input_tokens", Integer, nullable=True),
    Column("output_tokens", Integer, nullable=True),
    Column("cost_usd", Float, nullable=True),
    Column("error_code", Text, nullable=True),
    Column("error_message", Text, nullable=True),
    Column("callback_state", Text, nullable=False),
    Column("callback_attempts", Integer, nullable=False),
    Column("callback_error", Text, nullable=True),
    Column("callback_delivered_at", UtcDateTime, nullable=True),
    # The sweep looks for items never confirmed in a queue, and for final items whose callback
    # job was never enqueued; both filter on status first.
    Index("ix_batch_items_status_created_at", "status", "created_at"),
    Index("ix_batch_items_batch_id", "batch_id"),
)

series_enrichment = Table(
    "series_enrichment",
    metadata,
    Column(
        "series_id",
        String(12),
        ForeignKey("catalog_series.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("enrichment_type", String(32), primary_key=True),
    # Null when the model's answer was not JSON; the answer is then only in raw_text.
    Column("data", JSON(none_as_null=True), nullable=True),
    Column("raw_text", Text, nullable=False),
    Column("model_id", Text, nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("job_id", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # `catalog enrich` waits for its jobs by looking their ids up.
    Index("ix_series_enrichment_job_id", "job_id"),
)

#: Longest idempotency key stored as given; longer keys are stored as their SHA-256.
MAX_WEBHOOK_KEY_LENGTH = 200

webhook_idempotency = Table(
    "webhook_idempotency",
    metadata,
    Column("source", String(64), primary_key=True),
    Column("key", String(MAX_WEBHOOK_KEY_LENGTH), primary_key=True),
    # `processing` (claimed, not finished) or `completed` (processed, rejected or ignored).
    Column("status", String(16), nullable=False),
    # A fresh token per claim: completing or releasing an old claim never touches a new one.
    Column("token", String(32), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    # End of the lease while `processing`, end of retention once `completed`: past it, the key
    # may be claimed again (one conditional upsert), and the purge deletes the row.
    Column("expires_at", UtcDateTime, nullable=False),
    Column("result", JSON(none_as_null=True), nullable=True),
    Index("ix_webhook_idempotency_expires_at", "expires_at"),
)

event_rules = Table(
    "event_rules",
    metadata,
    Column("name", String(64), primary_key=True),
    # The rule as the admin API takes it (camelCase JSON); parsed and checked on every load.
    Column("config", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

event_archive = Table(
    "event_archive",
    metadata,
    # Replay reads in this order: the order events were archived in.
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("archive", String(48), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("event_time", UtcDateTime, nullable=False),
    Column("source", String(256), nullable=False),
    Column("detail_type", String(128), nullable=False),
    Column("body", Text, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_event_archive_archive_time", "archive", "event_time"),
    Index("ix_event_archive_expires_at", "expires_at"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("url", Text, primary_key=True),
    # Start of the current run of failures; null while the endpoint answers.
    Column("failing_since", UtcDateTime, nullable=True),
    Column("last_failure_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("disabled_at", UtcDateTime, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    # The public part of a key (8 base32 characters today); room to lengthen it later.
    Column("prefix", String(32), primary_key=True),
    # `sha256$<hex>` or `hmac-sha256$<hex>`: the secret itself is never stored.
    Column("hash", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("plan", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
)
