"""Shared fixtures: records, stores over every backend, and the service checks of STYLE.md.

A test that needs PostgreSQL skips with a reason when it is not reachable, except under
``CI=true``, where it fails: CI must never go green by skipping a backend.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.store.sql import SqlStore

REDIS_URL = os.environ.get("MANGAASSIST_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("MANGAASSIST_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"

RecordFactory = Callable[..., SeriesRecord]


def require_service(name: str, reachable: Callable[[], str | None]) -> None:
    """Skip (locally) or fail (CI) when ``reachable`` returns a reason the service is missing."""
    reason = reachable()
    if reason is None:
        return
    message = f"{name} is not reachable: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: services are required)")
    pytest.skip(message)


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"{POSTGRES_URL}: {exc}".strip()


def redis_problem() -> str | None:
    """Why Redis at ``REDIS_URL`` cannot be used, or None when it can."""
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:
        return "the redis package is not installed (pip install 'redis>=5')"
    try:
        with redis.Redis.from_url(
            REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry=Retry(NoBackoff(), 0)
        ) as client:
            client.ping()
    except redis.RedisError as exc:
        return f"{REDIS_URL}: {exc}"
    return None


def make_record(**overrides: Any) -> SeriesRecord:
    """A valid series record; keyword arguments (snake_case) replace fields."""
    fields: dict[str, Any] = {
        "title": "Sample Series",
        "title_ja": "見本の漫画",
        "title_kana": "みほんのまんが",
        "title_romaji": "Mihon no Manga",
        "author": "Taro Yamada",
        "author_ja": "山田太郎",
        "author_romaji": "Yamada Taro",
        "genre": "shonen",
        "tags": ["action"],
        "demographic": "shonen",
        "volumes": 3,
        "status": "ongoing",
        "price_jpy": 528,
        "stock": 10,
        "release_year": 2020,
        "age_rating": "all",
        "synopsis_en": "A sample story.",
        "synopsis_ja": "見本の物語です。",
        "isbn": "9784088725093",
    }
    fields.update(overrides)
    return SeriesRecord.model_validate(fields).with_derived_fields()


@pytest.fixture
def record_factory() -> RecordFactory:
    return make_record


@pytest.fixture(scope="session")
def curated() -> list[SeriesRecord]:
    """The curated catalog that ships in the package."""
    parsed = parse_catalog(BUILTIN_CATALOG)
    assert not parsed.errors, parsed.errors[:5]
    return parsed.records


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'var' / 'store.db'}")
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture
def postgres_url() -> Any:
    """A URL to a fresh, private schema of the test database, dropped afterwards."""
    require_service("PostgreSQL", _postgres_problem)
    schema = f"mangaassist_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def postgres_store(postgres_url: str) -> AsyncIterator[SqlStore]:
    store = SqlStore(postgres_url)
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_backend(request: pytest.FixtureRequest) -> str:
    """Name of the store backend a conformance test runs on."""
    return str(request.param)


@pytest.fixture
def store(request: pytest.FixtureRequest, store_backend: str) -> SqlStore:
    """The store port on every backend (STYLE.md: one suite, every adapter)."""
    backend: SqlStore = request.getfixturevalue(f"{store_backend}_store")
    return backend
