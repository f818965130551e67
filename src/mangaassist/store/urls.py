"""Database URLs as users write them, turned into SQLAlchemy async driver URLs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url

__all__ = ["async_url", "sqlite_path"]

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}


def async_url(url: str) -> URL:
    """``sqlite:///var/x.db`` -> aiosqlite, ``postgresql://`` (or ``postgres://``) -> psycopg."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported store URL scheme {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend])


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database or another backend."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)
