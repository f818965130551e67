"""Chat session queries of the SQL store: one code path for SQLite and PostgreSQL.

Functions of an open connection; ``SqlStore`` owns the transactions. The semantics are those of
``mangaassist.store.base.SessionStore``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mangaassist.domain.session import Role, Session, Turn
from mangaassist.store.schema import MAX_SESSION_ID_LENGTH, chat_sessions, chat_turns

__all__ = ["FIRST_SEQ", "append_turns", "delete_session", "get_session", "purge_sessions"]

#: Sequence number of a session's first turn; numbers grow by one per turn, never reused.
FIRST_SEQ = 0


def _check_session_id(session_id: str) -> None:
    if not session_id or len(session_id) > MAX_SESSION_ID_LENGTH:
        raise ValueError(f"session id must be 1 to {MAX_SESSION_ID_LENGTH} characters")


def _check_aware(value: datetime, name: str) -> None:
    # Checked here because a bind-time error would surface wrapped in a StatementError.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _turn_row(session_id: str, seq: int, turn: Turn) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "seq": seq,
        "role": Role(turn.role).value,
        "text": turn.text,
        "created_at": turn.created_at,
        "language": turn.language,
        "intent": turn.intent,
        "product_ids": list(turn.product_ids),
        "tokens": turn.tokens,
        "request_id": turn.request_id,
        "cancelled": turn.cancelled,
    }


def _turn(row: RowMapping) -> Turn:
    return Turn(
        role=Role(row["role"]),
        text=row["text"],
        created_at=row["created_at"],
        language=row["language"],
        intent=row["intent"],
        product_ids=tuple(row["product_ids"]),
        tokens=int(row["tokens"]),
        request_id=row["request_id"],
        cancelled=bool(row["cancelled"]),
    )


def append_turns(
    conn: Connection, session_id: str, turns: Sequence[Turn], *, now: datetime
) -> None:
    """Create or touch the session, then append ``turns``; call inside a transaction."""
    _check_session_id(session_id)
    _check_aware(now, "now")
    for turn in turns:
        _check_aware(turn.created_at, "turn.created_at")
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    upsert = insert(chat_sessions).values(session_id=session_id, created_at=now, last_active_at=now)
    # Writing the session row first is what makes concurrent appends safe: PostgreSQL holds its
    # row lock (a racing first insert waits, then updates) and SQLite its database write lock
    # until commit, so the next request reads the highest seq only after this one committed.
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=[chat_sessions.c.session_id], set_={"last_active_at": now}
        )
    )
    if not turns:
        return
    last = (
        conn.execute(
            select(func.max(chat_turns.c.seq)).where(chat_turns.c.session_id == session_id)
        )
    ).scalar_one()
    start = FIRST_SEQ if last is None else int(last) + 1
    conn.execute(
        chat_turns.insert(),
        [_turn_row(session_id, start + offset, turn) for offset, turn in enumerate(turns)],
    )


def get_session(
    conn: Connection, session_id: str, *, max_turns: int | None = None
) -> Session | None:
    """The session with its turns (first + last ``max_turns`` when given), or None."""
    if max_turns is not None and max_turns < 0:
        raise ValueError(f"max_turns must be 0 or more, got {max_turns}")
    kept = chat_turns.c.session_id == chat_sessions.c.session_id
    if max_turns is not None:
        # An alias, so the subquery is not correlated with the outer chat_turns.
        recent_turns = chat_turns.alias("recent_turns")
        recent = (
            select(recent_turns.c.seq)
            .where(recent_turns.c.session_id == session_id)
            .order_by(recent_turns.c.seq.desc())
            .limit(max_turns)
        )
        kept = and_(kept, or_(chat_turns.c.seq == FIRST_SEQ, chat_turns.c.seq.in_(recent)))
    # One statement, so the session row and its turns come from one snapshot even while
    # another request appends.
    query = (
        select(
            chat_sessions.c.created_at.label("session_created_at"),
            chat_sessions.c.last_active_at,
            *(column for column in chat_turns.columns if column.name != "session_id"),
        )
        .select_from(chat_sessions.outerjoin(chat_turns, kept))
        .where(chat_sessions.c.session_id == session_id)
        .order_by(chat_turns.c.seq)
    )
    rows = (conn.execute(query)).mappings().all()
    if not rows:
        return None
    return Session(
        session_id=session_id,
        created_at=rows[0]["session_created_at"],
        last_active_at=rows[0]["last_active_at"],
        turns=tuple(_turn(row) for row in rows if row["seq"] is not None),
    )


def delete_session(conn: Connection, session_id: str) -> bool:
    """Delete one session; its turns go with it (ON DELETE CASCADE)."""
    result = conn.execute(delete(chat_sessions).where(chat_sessions.c.session_id == session_id))
    return bool(result.rowcount)


def purge_sessions(conn: Connection, idle_before: datetime) -> int:
    """Delete sessions last active before ``idle_before`` with their turns; return how many."""
    _check_aware(idle_before, "idle_before")
    result = conn.execute(delete(chat_sessions).where(chat_sessions.c.last_active_at < idle_before))
    return int(result.rowcount)
