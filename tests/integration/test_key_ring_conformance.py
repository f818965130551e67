"""The key ring port's behaviour, identical in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import psycopg
import pytest

from mangaassist.access import keyring as keyring_module
from mangaassist.access.keyring import KeyRing, MemoryKeyStore, authenticate
from mangaassist.access.keys import KEY_PREFIX, IssuedKey, generate_key
from mangaassist.store import sql_keys
from mangaassist.store.sql import SqlStore
from mangaassist.store.sql_keys import MARK_USED_INTERVAL, SqlKeyRing
from mangaassist.store.urls import async_url, sqlite_path

pytestmark = pytest.mark.timeout(30)

START = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
JST = timezone(timedelta(hours=9))


class RingFactory(Protocol):
    def __call__(
        self, *, pepper: bytes | None = None, clock: Callable[[], datetime] | None = None
    ) -> KeyRing: ...


def stepping_clock(start: datetime = START) -> Callable[[], datetime]:
    """A clock one second further on each call, so creation order is unambiguous."""
    ticks = iter(range(1_000_000))
    return lambda: start + timedelta(seconds=next(ticks))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def ring_backend(request: pytest.FixtureRequest) -> str:
    """Name of the key ring backend a conformance test runs on."""
    return str(request.param)


@pytest.fixture
def make_ring(request: pytest.FixtureRequest, ring_backend: str) -> RingFactory:
    """Key rings on one backend; SQL rings made by one test share one database."""
    store: SqlStore | None = None
    if ring_backend != "memory":
        store = request.getfixturevalue(f"{ring_backend}_store")

    def make(
        *, pepper: bytes | None = None, clock: Callable[[], datetime] | None = None
    ) -> KeyRing:
        clock = clock or stepping_clock()
        if store is None:
            return MemoryKeyStore(pepper=pepper, clock=clock)
        return SqlKeyRing(store, pepper=pepper, clock=clock)

    return make


@pytest.fixture
def ring(make_ring: RingFactory) -> KeyRing:
    return make_ring()


def _aware_utc(value: datetime | None) -> bool:
    return value is not None and value.tzinfo is not None and value.utcoffset() == timedelta(0)


async def test_created_key_authenticates_and_is_shown_whole_once(ring: KeyRing) -> None:
    record, issued = await ring.create("partner-a", "standard")

    assert issued.api_key.startswith(f"{KEY_PREFIX}{record.prefix}_")
    assert (record.name, record.plan, record.active) == ("partner-a", "standard", True)
    assert record.hash == issued.hash
    assert issued.secret_plaintext not in record.hash
    assert await authenticate(ring, issued.api_key) == record
    assert await authenticate(ring, f"  {issued.api_key}\n") == record


async def test_wrong_secret_unknown_prefix_and_junk_do_not_authenticate(ring: KeyRing) -> None:
    record, issued = await ring.create("partner-a", "standard")
    other_secret = generate_key().secret_plaintext

    assert await authenticate(ring, f"{KEY_PREFIX}{record.prefix}_{other_secret}") is None
    assert await authenticate(ring, generate_key().api_key) is None
    assert await authenticate(ring, issued.api_key[:-1]) is None
    assert await authenticate(ring, None) is None


async def test_revoked_key_no_longer_authenticates(ring: KeyRing) -> None:
    record, issued = await ring.create("partner-a", "standard")

    revoked = await ring.revoke(record.prefix)

    assert revoked is not None
    assert not revoked.active
    assert await authenticate(ring, issued.api_key) is None


async def test_revoke_is_idempotent_and_keeps_the_first_time(ring: KeyRing) -> None:
    record, _ = await ring.create("partner-a", "standard")

    first = await ring.revoke(record.prefix)
    second = await ring.revoke(record.prefix)

    assert first is not None
    assert second == first
    assert await ring.lookup_by_prefix(record.prefix) == first
    assert await ring.revoke("zzzzzzzz") is None


async def test_list_is_oldest_first_and_includes_revoked(ring: KeyRing) -> None:
    assert await ring.list() == []
    created = [(await ring.create(f"partner-{i}", "standard"))[0] for i in range(4)]
    await ring.revoke(created[1].prefix)

    listed = await ring.list()

    assert [r.prefix for r in listed] == [r.prefix for r in created]
    assert [r.active for r in listed] == [True, False, True, True]


async def test_lookup_returns_the_stored_record_or_none(ring: KeyRing) -> None:
    record, _ = await ring.create("渋谷店", "standard")

    assert await ring.lookup_by_prefix(record.prefix) == record
    assert await ring.lookup_by_prefix("zzzzzzzz") is None
    assert await ring.lookup_by_prefix("") is None


async def test_mark_used_records_the_time(ring: KeyRing) -> None:
    record, _ = await ring.create("partner-a", "standard")
    used = START + timedelta(hours=1)

    await ring.mark_used(record.prefix, used)
    await ring.mark_used("zzzzzzzz", used)  # unknown: nothing to record, no error

    found = await ring.lookup_by_prefix(record.prefix)
    assert found is not None
    assert found.last_used_at == used
    later = used + MARK_USED_INTERVAL + timedelta(seconds=1)
    await ring.mark_used(record.prefix, later)
    found = await ring.lookup_by_prefix(record.prefix)
    assert found is not None
    assert found.last_used_at == later


async def test_a_peppered_key_verifies_only_with_its_pepper(make_ring: RingFactory) -> None:
    ring = make_ring(pepper=b"server-side-pepper")
    record, issued = await ring.create("partner-a", "standard")

    assert record.hash.startswith("hmac-sha256$")
    assert await authenticate(ring, issued.api_key, pepper=b"server-side-pepper") == record
    assert await authenticate(ring, issued.api_key) is None
    assert await authenticate(ring, issued.api_key, pepper=b"another-pepper") is None


async def test_timestamps_are_aware_utc_and_exact(make_ring: RingFactory) -> None:
    ring = make_ring(clock=lambda: datetime.now(UTC))
    record, _ = await ring.create("partner-a", "standard")
    used = datetime(2026, 3, 1, 0, 0, 0, 654321, tzinfo=UTC)
    await ring.mark_used(record.prefix, used)
    await ring.revoke(record.prefix)

    found = await ring.lookup_by_prefix(record.prefix)

    assert found is not None
    assert _aware_utc(found.created_at)
    assert _aware_utc(found.revoked_at)
    assert _aware_utc(found.last_used_at)
    assert found.created_at == record.created_at
    assert found.last_used_at == used
    assert all(_aware_utc(r.created_at) for r in await ring.list())


async def test_a_prefix_collision_issues_another_prefix(
    ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a key, and a generator whose next prefix is that key's
    taken, taken_key = await ring.create("first", "standard")
    collisions = [taken.prefix]

    def colliding(pepper: bytes | None = None) -> IssuedKey:
        fresh = generate_key(pepper)
        if collisions:
            return IssuedKey(collisions.pop(), fresh.secret_plaintext, fresh.hash)
        return fresh

    monkeypatch.setattr(keyring_module, "generate_key", colliding)
    monkeypatch.setattr(sql_keys, "generate_key", colliding)

    # When another key is created
    record, issued = await ring.create("second", "standard")

    # Then it gets its own prefix and the first key is untouched
    assert collisions == []
    assert record.prefix != taken.prefix
    assert await authenticate(ring, issued.api_key) == record
    assert await authenticate(ring, taken_key.api_key) == taken
    assert len(await ring.list()) == 2


# -- SQL key ring only ---------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def sql_store(request: pytest.FixtureRequest) -> SqlStore:
    store: SqlStore = request.getfixturevalue(f"{request.param}_store")
    return store


async def test_mark_used_writes_at_most_once_a_minute_per_key(sql_store: SqlStore) -> None:
    ring = SqlKeyRing(sql_store, clock=stepping_clock())
    record, _ = await ring.create("partner-a", "standard")

    await ring.mark_used(record.prefix, START)
    await ring.mark_used(record.prefix, START + timedelta(seconds=59))
    coarse = await ring.lookup_by_prefix(record.prefix)
    await ring.mark_used(record.prefix, START + timedelta(seconds=60))
    written = await ring.lookup_by_prefix(record.prefix)

    assert coarse is not None
    assert coarse.last_used_at == START
    assert written is not None
    assert written.last_used_at == START + timedelta(seconds=60)


async def test_an_older_use_from_another_process_does_not_move_last_used_back(
    sql_store: SqlStore,
) -> None:
    ring, other_process = SqlKeyRing(sql_store), SqlKeyRing(sql_store)
    record, _ = await ring.create("partner-a", "standard")

    await ring.mark_used(record.prefix, START + timedelta(minutes=5))
    await other_process.mark_used(record.prefix, START.astimezone(JST))

    found = await ring.lookup_by_prefix(record.prefix)
    assert found is not None
    assert found.last_used_at == START + timedelta(minutes=5)


async def test_times_given_in_another_zone_read_back_as_utc(sql_store: SqlStore) -> None:
    ring = SqlKeyRing(sql_store, clock=lambda: START.astimezone(JST))
    record, _ = await ring.create("partner-a", "standard")
    await ring.mark_used(record.prefix, (START + timedelta(hours=2)).astimezone(JST))

    found = await ring.lookup_by_prefix(record.prefix)

    assert found is not None
    assert found.created_at == START
    assert found.created_at.tzinfo == UTC
    assert record.created_at.tzinfo == UTC
    assert found.last_used_at == START + timedelta(hours=2)
    assert found.last_used_at is not None
    assert found.last_used_at.tzinfo == UTC


def _raw_rows(store: SqlStore) -> list[tuple[Any, ...]]:
    """Every row of ``api_keys`` as the database driver returns it, past the store's code."""
    path = sqlite_path(async_url(store.url))
    if path is not None:
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute("SELECT * FROM api_keys").fetchall()
    with psycopg.connect(store.url) as conn:
        return conn.execute("SELECT * FROM api_keys").fetchall()


def _sqlite_files(store: SqlStore) -> Iterator[Path]:
    path = sqlite_path(async_url(store.url))
    if path is not None:
        yield from (p for p in path.parent.iterdir() if p.name.startswith(path.name))


async def test_only_the_prefix_and_hash_are_stored_never_the_secret(sql_store: SqlStore) -> None:
    ring = SqlKeyRing(sql_store)
    record, issued = await ring.create("partner-a", "standard")
    await ring.mark_used(record.prefix, START)
    await ring.revoke(record.prefix)

    rows = _raw_rows(sql_store)
    stored = " ".join(str(value) for row in rows for value in row)

    assert len(rows) == 1
    assert record.prefix in stored
    assert issued.hash in stored
    assert issued.secret_plaintext not in stored
    assert issued.api_key not in stored
    files = list(_sqlite_files(sql_store))  # the database and its write-ahead log
    if sql_store.backend == "sqlite":  # the row did reach these files: the search is meaningful
        assert any(issued.hash.encode() in file.read_bytes() for file in files)
    for file in files:
        data = file.read_bytes()
        assert issued.secret_plaintext.encode() not in data, file
        assert issued.api_key.encode() not in data, file
