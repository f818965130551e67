"""Where key records live: the :class:`KeyRing` port, an in-process store, and authentication.

The SQL key ring (``store/sql_keys.py``, SQLite and PostgreSQL) implements the same protocol;
only prefixes and hashes are ever stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from mangaassist.access.keys import IssuedKey, generate_key, parse_key, verify

__all__ = ["ApiKeyRecord", "KeyRing", "MemoryKeyStore", "authenticate", "verified_record"]

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ApiKeyRecord:
    """What the store keeps about a key: never the secret, only its hash (hidden in reprs)."""

    prefix: str
    hash: str = field(repr=False)
    name: str
    plan: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        """False once revoked; a revoked key never authenticates again."""
        return self.revoked_at is None


class KeyRing(Protocol):
    """The key store port used by the CLI, the admin routes and the authentication middleware."""

    async def create(self, name: str, plan: str) -> tuple[ApiKeyRecord, IssuedKey]:
        """Issue a key; the :class:`IssuedKey` is the only copy of its secret."""
        ...

    async def list(self) -> list[ApiKeyRecord]:
        """Every key, revoked ones included, oldest first."""
        ...

    async def revoke(self, prefix: str) -> ApiKeyRecord | None:
        """Revoke a key (idempotent: the first revocation time stays); None if unknown."""
        ...

    async def lookup_by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        """The record for ``prefix``, or None."""
        ...

    async def mark_used(self, prefix: str, at: datetime) -> None:
        """Record when a key last authenticated (stores may coarsen this to save writes)."""
        ...


class MemoryKeyStore:
    """An in-process :class:`KeyRing` for tests and the embedded demo."""

    def __init__(self, *, pepper: bytes | None = None, clock: Clock = _utcnow) -> None:
        self.pepper = pepper
        self._clock = clock
        self._records: dict[str, ApiKeyRecord] = {}

    def __repr__(self) -> str:
        return f"MemoryKeyStore(keys={len(self._records)})"

    async def create(self, name: str, plan: str) -> tuple[ApiKeyRecord, IssuedKey]:
        issued = generate_key(self.pepper)
        while (
            issued.prefix in self._records
        ):  # 40-bit prefixes: a collision is rare, not impossible
            issued = generate_key(self.pepper)
        record = ApiKeyRecord(
            prefix=issued.prefix, hash=issued.hash, name=name, plan=plan, created_at=self._clock()
        )
        self._records[record.prefix] = record
        return record, issued

    async def list(self) -> list[ApiKeyRecord]:
        return sorted(self._records.values(), key=lambda record: record.created_at)

    async def revoke(self, prefix: str) -> ApiKeyRecord | None:
        record = self._records.get(prefix)
        if record is None or record.revoked_at is not None:
            return record
        record = dataclasses.replace(record, revoked_at=self._clock())
        self._records[prefix] = record
        return record

    async def lookup_by_prefix(self, prefix: str) -> ApiKeyRecord | None:
        return self._records.get(prefix)

    async def mark_used(self, prefix: str, at: datetime) -> None:
        record = self._records.get(prefix)
        if record is not None:
            self._records[prefix] = dataclasses.replace(record, last_used_at=at)


async def verified_record(
    ring: KeyRing, header_value: str | None, *, pepper: bytes | None = None
) -> ApiKeyRecord | None:
    """The record whose secret an ``X-Api-Key`` value proves, revoked or not; None when it is
    malformed, unknown or has the wrong secret (alike, so nothing leaks which)."""
    parsed = parse_key(header_value)
    if parsed is None:
        return None
    prefix, secret = parsed
    record = await ring.lookup_by_prefix(prefix)
    if record is None or not verify(secret, record.hash, pepper):
        return None
    return record


async def authenticate(
    ring: KeyRing, header_value: str | None, *, pepper: bytes | None = None
) -> ApiKeyRecord | None:
    """The active record an ``X-Api-Key`` value belongs to, or None (malformed, unknown,
    revoked or wrong secret)."""
    record = await verified_record(ring, header_value, pepper=pepper)
    return record if record is not None and record.active else None
