"""API keys in the SQL store (SQLite, PostgreSQL): the :class:`KeyRing` port on ``api_keys``.

Only a key's public prefix and the hash of its secret are stored; the secret exists in clear
only in the :class:`IssuedKey` that :meth:`SqlKeyRing.create` returns once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Connection, RowMapping, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mangaassist.access.keyring import ApiKeyRecord
from mangaassist.access.keys import IssuedKey, generate_key
from mangaassist.store.schema import api_keys
from mangaassist.store.sql import SqlStore

__all__ = [
    "CREATE_ATTEMPTS",
    "MARK_USED_INTERVAL",
    "SqlKeyRing",
    "get_key",
    "insert_key",
    "list_keys",
    "revoke_key",
    "touch_key",
]

#: Fresh prefixes tried before giving up: 40-bit prefixes collide rarely, never five times.
CREATE_ATTEMPTS = 5
#: Least time between two ``last_used_at`` writes of one key in one process: every
#: authenticated request reports a use, and "last used" to the minute is all an operator reads.
MARK_USED_INTERVAL = timedelta(seconds=60)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_aware(value: datetime, name: str) -> None:
    # Checked here because a bind-time error would surface wrapped in a StatementError.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _record(row: RowMapping) -> ApiKeyRecord:
    return ApiKeyRecord(
        prefix=row["prefix"],
        hash=row["hash"],
        name=row["name"],
        plan=row["plan"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


def insert_key(conn: Connection, record: ApiKeyRecord) -> bool:
    """Store a new key; False (and nothing written) when its prefix is taken."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(api_keys).values(
        prefix=record.prefix,
        hash=record.hash,
        name=record.name,
        plan=record.plan,
        created_at=record.created_at,
    )
    # RETURNING, not rowcount: psycopg reports -1 rows for an INSERT ... ON CONFLICT DO NOTHING.
    statement = statement.on_conflict_do_nothing(index_elements=[api_keys.c.prefix])
    return conn.execute(statement.returning(api_keys.c.prefix)).scalar_one_or_none() is not None


def list_keys(conn: Connection) -> list[ApiKeyRecord]:
    """Every key, revoked ones included, oldest first."""
    query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.prefix)
    return [_record(row) for row in conn.execute(query).mappings()]


def get_key(conn: Connection, prefix: str) -> ApiKeyRecord | None:
    """The key with this prefix, or None."""
    row = conn.execute(select(api_keys).where(api_keys.c.prefix == prefix)).mappings().first()
    return None if row is None else _record(row)


def revoke_key(conn: Connection, prefix: str, now: datetime) -> ApiKeyRecord | None:
    """Revoke a key unless it already is (the first time stays); the record, or None."""
    _check_aware(now, "now")
    conn.execute(
        update(api_keys)
        .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return get_key(conn, prefix)


def touch_key(conn: Connection, prefix: str, at: datetime) -> None:
    """Move ``last_used_at`` forward to ``at``; an older report never moves it back."""
    _check_aware(at, "at")
    last_used = api_keys.c.last_used_at
    conn.execute(
        update(api_keys)
        .where(api_keys.c.prefix == prefix, or_(last_used.is_(None), last_used < at))
        .values(last_used_at=at)
    )


class SqlKeyRing:
    """The :class:`~mangaassist.access.keyring.KeyRing` on the SQL store's ``api_keys`` table.

    ``pepper`` turns the stored hashes into HMAC-SHA-256 (pass the same one to
    :func:`~mangaassist.access.keyring.authenticate`). ``mark_used`` writes at most once per
    :data:`MARK_USED_INTERVAL` per key in this process.
    """

    def __init__(
        self,
        store: SqlStore,
        *,
        pepper: bytes | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.pepper = pepper
        # The store's executor: key work runs on the same engine, pool and write lock as the
        # rest of the store (SQLite has one writer per process).
        self._run = store.executor
        self._clock = clock
        self._last_written: dict[str, datetime] = {}

    def __repr__(self) -> str:
        return f"SqlKeyRing(backend={self._run.backend!r})"

    async def create(self, name: str, plan: str) -> tuple[ApiKeyRecord, IssuedKey]:
        """Issue a key under a fresh prefix, retrying the rare prefix collision."""
        created_at = self._clock().astimezone(UTC)
        for _ in range(CREATE_ATTEMPTS):
            issued = generate_key(self.pepper)
            record = ApiKeyRecord(
                prefix=issued.prefix, hash=issued.hash, name=name, plan=plan, created_at=created_at
            )
            if await self._run.write(partial(insert_key, record=record)):
                return record, issued
        raise RuntimeError(f"no free key prefix after {CREATE_ATTEMPTS} attempts")

    async def list(self) -> list[ApiKeyRecord]:
        """Every key, revoked ones included, oldest first."""
        return await self._run.read(list_keys)

    async def revoke(self, prefix: str) -> ApiKeyRecord | None:
        """Revoke a key (idempotent: the first revocation time stays); None if unknown."""
        return await self._run.write(partial(revoke_key, prefix=prefix, now=self._clock()))

    async def lookup_by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        """The record for ``prefix``, or None."""
        return await self._run.read(partial(get_key, prefix=prefix))

    async def mark_used(self, prefix: str, at: datetime) -> None:
        """Record a use; skipped when this process wrote one for the key less than
        :data:`MARK_USED_INTERVAL` before ``at``."""
        _check_aware(at, "at")
        previous = self._last_written.get(prefix)
        if previous is not None and at < previous + MARK_USED_INTERVAL:
            return
        # Claimed before the write, so concurrent requests of one key write once, not each.
        self._last_written[prefix] = at
        try:
            await self._run.write(partial(touch_key, prefix=prefix, at=at))
        except BaseException:
            if self._last_written.get(prefix) == at:
                self._restore(prefix, previous)
            raise

    def _restore(self, prefix: str, previous: datetime | None) -> None:
        if previous is None:
            self._last_written.pop(prefix, None)
        else:
            self._last_written[prefix] = previous
