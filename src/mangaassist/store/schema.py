"""Tables of the SQL store, in SQLAlchemy Core. Changes go through ``migrations.py``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["metadata", "schema_migrations", "series", "store_meta"]

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
