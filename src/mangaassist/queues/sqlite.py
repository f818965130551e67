"""Queues in one SQLite file: durable, shared by every process that opens the file.

Every operation is one short transaction run inline on the event loop (a claim of ten messages
takes tens of microseconds; a thread hop per statement would cost more than the work). A receive
first looks for due messages without a lock, so idle long polls never take the write lock, then
claims them with ``BEGIN IMMEDIATE``: select the next due rows, move any past the redrive policy
to the dead-letter queue, and stamp the rest with a fresh receipt and a new ``visible_at``. A
receiver that dies simply never deletes; its messages come back when ``visible_at`` passes. A
receipt handle is ``"<seq>.<token>"``: the row and the token of the receive that claimed it, so
a later receive (a new token) makes older handles stale. FIFO order: see ``sqlite_sql``.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mangaassist.queues.base import (
    DEDUP_WINDOW_S,
    DLQ_ATTRIBUTE_PREFIX,
    DLQ_RECEIVE_COUNT_ATTRIBUTE,
    DLQ_SOURCE_ATTRIBUTE,
    BatchEntry,
    InvalidParameterError,
    QueueAttributes,
    QueueBackend,
    QueueConfig,
    ReceivedMessage,
)
from mangaassist.queues.sqlite_schema import QueueFile, database_path, dump_config, load_config
from mangaassist.queues.sqlite_sql import (
    ATTRIBUTES,
    CLAIM,
    DELETE,
    DELETE_ROW,
    DUE_FIFO,
    DUE_STANDARD,
    INSERT,
    PARKED,
    PROMOTE,
    REDRIVABLE,
    SWEEP,
)

__all__ = [
    "DLQ_ATTRIBUTE_PREFIX",
    "DLQ_RECEIVE_COUNT_ATTRIBUTE",
    "DLQ_SOURCE_ATTRIBUTE",
    "SqliteQueue",
]

#: Long polls look at the file this often (growing from MIN to MAX while nothing comes); sends
#: of this process wake them at once, so the pause only delays messages from other processes.
POLL_MIN_S = 0.02
POLL_MAX_S = 0.1
#: Messages past retention and stale deduplication ids are ignored at once; deleting them is
#: housekeeping, done at most this often per queue (by the first send or claim after it).
SWEEP_INTERVAL_S = 600.0

#: seq, message_id, body, attributes, group_id, dedup_id, sent_at, receive_count
Row = tuple[Any, ...]


class SqliteQueue(QueueBackend):
    """Every queue in one SQLite file (or ``:memory:`` for tests), with SQS semantics.

    ``clock`` gives the time of sends, delays, visibility timeouts and retention (tests inject
    a fake one); long polls wait in real time.
    """

    backend = "sqlite"

    def __init__(self, path_or_url: str, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self._file = QueueFile(database_path(path_or_url))
        self._db = self._file.db  # reads: autocommit, inline
        self._write = self._file.write
        self._clock = clock
        self._arrivals: dict[str, asyncio.Event] = {}
        self._swept: dict[str, float] = {}

    # -- queues --------------------------------------------------------------------------------

    async def _create_queue(self, config: QueueConfig) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO queue_configs (name, settings) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET settings = excluded.settings",
                (config.name, dump_config(config)),
            )

    async def _load_config(self, queue: str) -> QueueConfig | None:
        row = self._db.execute(
            "SELECT settings FROM queue_configs WHERE name = ?", (queue,)
        ).fetchone()
        return None if row is None else load_config(row[0])

    async def _list_queues(self) -> list[str]:
        return [name for (name,) in self._db.execute("SELECT name FROM queue_configs")]

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, config: QueueConfig, entries: list[BatchEntry]) -> list[str]:
        now = self._clock()
        message_ids: list[str] = []
        rows: list[Row] = []
        with self._write() as db:
            self._sweep(db, config, now)
            for entry in entries:
                if config.fifo:
                    first = db.execute(
                        "SELECT message_id FROM queue_dedup"
                        " WHERE queue = ? AND dedup_id = ? AND sent_at > ?",
                        (config.name, entry.dedup_id, now - DEDUP_WINDOW_S),
                    ).fetchone()
                    if first is not None:  # a duplicate: accepted, not enqueued again
                        message_ids.append(first[0])
                        continue
                    message_id = str(uuid.uuid4())
                    db.execute(
                        "INSERT OR REPLACE INTO queue_dedup VALUES (?, ?, ?, ?)",
                        (config.name, entry.dedup_id, message_id, now),
                    )
                    visible_at = PARKED  # until PROMOTE below finds it at its group's head
                else:
                    message_id = str(uuid.uuid4())
                    visible_at = now + (entry.delay_s or 0.0)
                attributes = json.dumps(dict(entry.attributes)) if entry.attributes else None
                row = (config.name, message_id, entry.body, attributes, entry.group_id)
                rows.append((*row, entry.dedup_id, now, visible_at))
                message_ids.append(message_id)
            db.executemany(INSERT, rows)
            if config.fifo:
                _promote(db, config.name, [row[4] for row in rows], now, config.delay_s)
        if rows:
            self._wake(config.name)
        return message_ids

    # -- receiving -----------------------------------------------------------------------------

    async def _receive(
        self, config: QueueConfig, max_messages: int, wait_s: float, visibility_s: float
    ) -> list[ReceivedMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        pause = POLL_MIN_S
        while True:
            arrival = self._arrivals.get(config.name)
            if arrival is None:
                arrival = self._arrivals[config.name] = asyncio.Event()
            messages = self._claim(config, max_messages, visibility_s)
            remaining = deadline - loop.time()
            if messages or remaining <= 0:
                return messages
            try:
                async with asyncio.timeout(min(pause, remaining)):
                    await arrival.wait()
            except TimeoutError:
                pause = min(pause * 2, POLL_MAX_S)

    def _claim(self, config: QueueConfig, limit: int, visibility_s: float) -> list[ReceivedMessage]:
        """Claim up to ``limit`` due messages (none due: no write lock taken)."""
        while True:
            messages, moved = self._claim_once(config, limit, visibility_s)
            if messages or not moved:
                return messages

    def _claim_once(
        self, config: QueueConfig, limit: int, visibility_s: float
    ) -> tuple[list[ReceivedMessage], bool]:
        """One claim transaction; also whether it took messages out of the queue instead of
        delivering them (expired FIFO heads, dead letters): then others may be due, try again."""
        now = self._clock()
        expired = now - config.retention_s
        due = DUE_FIFO if config.fifo else DUE_STANDARD
        params = {"queue": config.name, "now": now, "expired": expired, "limit": limit}
        if not self._db.execute(due, {**params, "limit": 1}).fetchall():  # a read: no lock
            return [], False
        token = secrets.token_hex(8)
        redrive = config.redrive
        deliver: list[Row] = []
        dead: list[Row] = []
        dropped: list[Row] = []
        with self._write() as db:
            self._sweep(db, config, now)
            for row in db.execute(due, params).fetchall():
                if row[6] <= expired:  # a FIFO head past retention: drop it, free its group
                    dropped.append(row)
                # SQS: a message whose receive count would pass the maximum is not delivered.
                elif redrive is not None and row[7] >= redrive.max_receive_count:
                    dead.append(row)
                else:
                    deliver.append(row)
            if dropped:
                db.executemany(DELETE_ROW, [(row[0],) for row in dropped])
                _promote(db, config.name, [row[4] for row in dropped], now, config.delay_s)
            if redrive is not None and dead:
                self._move(db, dead, config, redrive.dead_letter, now, dead_letter=True)
            until = now + visibility_s
            db.executemany(CLAIM, [(until, token, row[0]) for row in deliver])
        if redrive is not None and dead:
            self._wake(redrive.dead_letter)
        return [_received(row, token) for row in deliver], bool(dropped or dead)

    async def _delete(self, config: QueueConfig, receipt_handles: list[str]) -> list[bool]:
        claims = [_parse_handle(handle) for handle in receipt_handles]
        if not any(claims):
            return [False] * len(claims)
        outcomes: list[bool] = []
        groups: list[str | None] = []
        with self._write() as db:
            for claim in claims:
                deleted = None
                if claim is not None:
                    deleted = db.execute(DELETE, (claim[0], config.name, claim[1])).fetchone()
                    groups += deleted or ()
                outcomes.append(deleted is not None)
            if config.fifo and groups:
                _promote(db, config.name, groups, self._clock(), config.delay_s)
        if config.fifo and groups:
            self._wake(config.name)  # the groups' next messages are due now
        return outcomes

    async def _change_visibility(
        self, config: QueueConfig, receipt_handle: str, timeout_s: float
    ) -> bool:
        claim = _parse_handle(receipt_handle)
        if claim is None:
            return False
        now = self._clock()
        with self._write() as db:
            changed = db.execute(
                "UPDATE queue_messages SET visible_at = ?"
                " WHERE seq = ? AND queue = ? AND receipt = ? AND visible_at > ?",
                (now + timeout_s, claim[0], config.name, claim[1], now),
            ).rowcount
        if changed and timeout_s == 0:
            self._wake(config.name)
        return changed == 1

    async def _purge(self, config: QueueConfig) -> None:
        with self._write() as db:
            db.execute("DELETE FROM queue_messages WHERE queue = ?", (config.name,))

    async def _attributes(self, config: QueueConfig) -> QueueAttributes:
        now = self._clock()
        visible, in_flight, delayed, oldest = self._db.execute(
            ATTRIBUTES,
            {
                "queue": config.name,
                "now": now,
                "expired": now - config.retention_s,
                "parked": PARKED,
            },
        ).fetchone()
        age = 0.0 if oldest is None else max(0.0, now - oldest)
        return QueueAttributes(visible, in_flight, delayed, age)

    async def _redrive(
        self, source: QueueConfig, target: QueueConfig, max_messages: int | None
    ) -> int:
        if max_messages is not None and max_messages < 1:
            raise InvalidParameterError("max messages must be at least 1")
        now = self._clock()
        with self._write() as db:
            rows = db.execute(
                REDRIVABLE,
                {
                    "queue": source.name,
                    "now": now,
                    "expired": now - source.retention_s,
                    "parked": PARKED,
                    "limit": max_messages or -1,
                },
            ).fetchall()
            self._move(db, rows, source, target.name, now, dead_letter=False)
        if rows:
            self._wake(target.name)
        return len(rows)

    # -- plumbing ------------------------------------------------------------------------------

    @staticmethod
    def _move(
        db: sqlite3.Connection,
        rows: list[Row],
        source: QueueConfig,
        target: str,
        now: float,
        *,
        dead_letter: bool,
    ) -> None:
        """Move rows to the end of ``target``, due now, never received there.

        A move to a dead-letter queue records the source and receive count in the attributes;
        a redrive back removes every ``dlq.`` attribute. FIFO groups are promoted on both sides.
        """
        moved: list[Row] = []
        for _, message_id, body, attributes, group_id, dedup_id, sent_at, count in rows:
            kept: dict[str, str] = json.loads(attributes) if attributes else {}
            if dead_letter:
                kept[DLQ_SOURCE_ATTRIBUTE] = source.name
                kept[DLQ_RECEIVE_COUNT_ATTRIBUTE] = str(count)
            else:
                kept = {k: v for k, v in kept.items() if not k.startswith(DLQ_ATTRIBUTE_PREFIX)}
            encoded = json.dumps(kept) if kept else None
            visible_at = PARKED if source.fifo else now
            moved.append(
                (target, message_id, body, encoded, group_id, dedup_id, sent_at, visible_at)
            )
        db.executemany(DELETE_ROW, [(row[0],) for row in rows])
        db.executemany(INSERT, moved)
        if source.fifo:
            groups = [row[4] for row in rows]
            _promote(db, target, groups, now, 0.0)
            _promote(db, source.name, groups, now, source.delay_s)

    def _sweep(self, db: sqlite3.Connection, config: QueueConfig, now: float) -> None:
        """Delete messages past retention and stale deduplication ids (now and then)."""
        if now - self._swept.get(config.name, -math.inf) < SWEEP_INTERVAL_S:
            return
        self._swept[config.name] = now
        groups = [group for (group,) in db.execute(SWEEP, (config.name, now - config.retention_s))]
        if config.fifo:
            _promote(db, config.name, groups, now, config.delay_s)
            db.execute(
                "DELETE FROM queue_dedup WHERE queue = ? AND sent_at <= ?",
                (config.name, now - DEDUP_WINDOW_S),
            )

    def _wake(self, queue: str) -> None:
        """Wake this process's long polls on ``queue`` (later ones wait on a fresh event)."""
        arrival = self._arrivals.pop(queue, None)
        if arrival is not None:
            arrival.set()

    async def close(self) -> None:
        """Stop checkpointing, leave a compact file behind, and close the connections."""
        await self._file.close()


def _promote(
    db: sqlite3.Connection, queue: str, groups: Iterable[str | None], now: float, delay_s: float
) -> None:
    """Make each group's oldest message due (``sqlite_sql``: parking)."""
    db.executemany(
        PROMOTE,
        [
            {"queue": queue, "group": group, "now": now, "delay": delay_s, "parked": PARKED}
            for group in set(groups)
            if group is not None
        ],
    )


def _parse_handle(handle: str) -> tuple[int, str] | None:
    """``(seq, token)`` of a receipt handle, or None for anything this backend never issued."""
    seq, dot, token = handle.partition(".")
    if not dot or not seq.isdigit() or not token:
        return None
    return int(seq), token


def _received(row: Row, token: str) -> ReceivedMessage:
    seq, message_id, body, attributes, group_id, dedup_id, sent_at, count = row
    decoded: Mapping[str, str] = json.loads(attributes) if attributes else {}
    return ReceivedMessage(
        message_id=message_id,
        receipt_handle=f"{seq}.{token}",
        body=body,
        receive_count=count + 1,
        sent_at=datetime.fromtimestamp(sent_at, UTC),
        attributes=decoded,
        group_id=group_id,
        dedup_id=dedup_id,
    )
