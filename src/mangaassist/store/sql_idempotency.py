"""Idempotency keys of inbound webhooks: functions of a synchronous Core connection.

A claim is one conditional upsert, the same statement on SQLite and PostgreSQL::

    INSERT ... VALUES (source, key, 'processing', lease end)
    ON CONFLICT (source, key) DO UPDATE SET ... WHERE webhook_idempotency.expires_at <= now

It inserts a new key, or takes over a row whose lease ran out (a crashed processor) or whose
retention ended; otherwise it changes nothing. ``RETURNING`` tells the winner (a row comes back
only when one was written; SQLite 3.35+ and PostgreSQL). Of any number of concurrent claimers
exactly one wins, because the database serializes writes to one primary key (PostgreSQL locks
the conflicting row, SQLite holds its write lock). The losers read the row to learn whether it
is completed (a duplicate) or still processing.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mangaassist.domain.webhook import ClaimOutcome, ClaimState
from mangaassist.store.schema import webhook_idempotency

__all__ = ["claim_webhook", "complete_webhook", "purge_webhook_keys", "release_webhook"]

_PROCESSING = "processing"
_COMPLETED = "completed"
#: A claim that lost the upsert reads the row; if a release deleted it in between, try again.
_CLAIM_ATTEMPTS = 3

_t = webhook_idempotency.c


def _key_filter(source: str, key: str, token: str | None) -> Any:
    condition = and_(_t.source == source, _t.key == key)
    return condition if token is None else and_(condition, _t.token == token)


def _try_claim(
    conn: Connection, source: str, key: str, now: datetime, lease_s: float, ttl_s: float
) -> str | None:
    token = uuid.uuid4().hex
    values = {
        "status": _PROCESSING,
        "token": token,
        "claimed_at": now,
        "completed_at": None,
        "expires_at": now + timedelta(seconds=lease_s),
        "result": None,
    }
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = insert(webhook_idempotency).values(source=source, key=key, **values)
    statement = statement.on_conflict_do_update(
        index_elements=[_t.source, _t.key],
        set_=values,
        # A lease that ran out, a retention that ended, or a result older than today's TTL
        # (a shortened MANGAASSIST_WEBHOOK_IDEMPOTENCY_TTL_S applies to rows written before).
        where=or_(
            _t.expires_at <= now,
            and_(_t.status == _COMPLETED, _t.completed_at <= now - timedelta(seconds=ttl_s)),
        ),
    )
    # RETURNING rather than the row count: psycopg's async cursor reports -1 for an INSERT.
    won = conn.execute(statement.returning(_t.token)).scalar_one_or_none()
    return token if won == token else None


def claim_webhook(
    conn: Connection, source: str, key: str, *, now: datetime, lease_s: float, ttl_s: float
) -> ClaimOutcome:
    """Claim ``(source, key)`` for ``lease_s`` seconds; see the module docstring. A completed
    key is a duplicate until ``ttl_s`` after its completion (or its stored end of retention)."""
    for _ in range(_CLAIM_ATTEMPTS):
        token = _try_claim(conn, source, key, now, lease_s, ttl_s)
        if token is not None:
            return ClaimOutcome(
                ClaimState.CLAIMED, expires_at=now + timedelta(seconds=lease_s), token=token
            )
        row = conn.execute(
            select(_t.status, _t.result, _t.expires_at).where(_key_filter(source, key, None))
        ).first()
        if row is None:  # released between our upsert and this read: claim again
            continue
        if row.status == _COMPLETED:
            return ClaimOutcome(ClaimState.COMPLETED, result=row.result, expires_at=row.expires_at)
        return ClaimOutcome(ClaimState.IN_PROGRESS, expires_at=row.expires_at)
    return ClaimOutcome(ClaimState.IN_PROGRESS, expires_at=now)


def complete_webhook(
    conn: Connection,
    source: str,
    key: str,
    result: dict[str, Any],
    *,
    now: datetime,
    ttl_s: float,
    token: str | None = None,
) -> bool:
    """Mark the key completed with ``result``, kept ``ttl_s`` from ``now``; with ``token``,
    only while that claim still holds the key. True when a row was updated."""
    statement = (
        update(webhook_idempotency)
        .where(_key_filter(source, key, token))
        .values(
            status=_COMPLETED,
            completed_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
            result=result,
        )
    )
    return bool(conn.execute(statement).rowcount == 1)


def release_webhook(conn: Connection, source: str, key: str, *, token: str | None = None) -> bool:
    """Forget an unfinished claim so the sender's retry can claim the key again; with
    ``token``, only that claim. A completed key is kept. True when a row was deleted."""
    statement = delete(webhook_idempotency).where(
        and_(_key_filter(source, key, token), _t.status == _PROCESSING)
    )
    return bool(conn.execute(statement).rowcount == 1)


def purge_webhook_keys(conn: Connection, before: datetime) -> int:
    """Delete keys whose lease or retention ended before ``before``; return how many."""
    result = conn.execute(delete(webhook_idempotency).where(_t.expires_at < before))
    return int(result.rowcount)
