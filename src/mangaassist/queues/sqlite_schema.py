"""The SQLite queue's file: where it is, how it is opened and written, and its tables.

Every queue of a process lives in one file. ``queue_messages`` holds all messages; its index on
``(queue, visible_at, seq)`` makes "the next visible messages of queue X" a range scan that stops
after the first rows. A partial index on ``(queue, group_id, seq)`` (FIFO rows only, so standard
queues never pay for it) finds the next message of a group. ``queue_dedup`` keeps FIFO
deduplication ids apart from the messages: SQS deduplicates for five minutes even after the
first message was deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mangaassist.queues.base import QueueConfig, RedrivePolicy

__all__ = [
    "BUSY_TIMEOUT_S",
    "CHECKPOINT_INTERVAL_S",
    "SCHEMA_VERSION",
    "QueueFile",
    "connect",
    "database_path",
    "dump_config",
    "ensure_schema",
    "load_config",
]

#: Bumped when the tables change; a file from a newer version is refused rather than misread.
SCHEMA_VERSION = 1
#: How long a writer waits for another process's write lock (the store uses the same 10 s).
BUSY_TIMEOUT_S = 10.0
#: Seconds between background WAL checkpoints (copying the log into the database file).
CHECKPOINT_INTERVAL_S = 1.0
#: ``DELETE ... RETURNING`` arrived in SQLite 3.35.
MIN_SQLITE_VERSION = (3, 35, 0)

_TABLES = """
CREATE TABLE IF NOT EXISTS queue_configs (
    name TEXT PRIMARY KEY,
    settings TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS queue_messages (
    seq INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT,
    group_id TEXT,
    dedup_id TEXT,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);

CREATE INDEX IF NOT EXISTS queue_messages_due ON queue_messages (queue, visible_at, seq);

CREATE INDEX IF NOT EXISTS queue_messages_groups ON queue_messages (queue, group_id, seq)
    WHERE group_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS queue_dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sent_at REAL NOT NULL,
    PRIMARY KEY (queue, dedup_id)
) WITHOUT ROWID;
"""


def database_path(path_or_url: str) -> Path | None:
    """The file of a path or ``sqlite:///`` URL; None for an in-memory database.

    ``sqlite:///var/q.db`` is relative, ``sqlite:////srv/q.db`` absolute, as in SQLAlchemy.
    """
    if path_or_url.startswith("sqlite:"):
        path_or_url = path_or_url.removeprefix("sqlite:").removeprefix("//").partition("?")[0]
        path_or_url = path_or_url.removeprefix("/")
    if path_or_url in ("", ":memory:"):
        return None
    return Path(path_or_url)


def connect(path: Path | None) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with WAL and NORMAL sync.

    With WAL and ``synchronous=NORMAL`` a commit is durable against a killed process (it is in
    the log before ``COMMIT`` returns) without an fsync per commit; only a power loss can take
    the last commits. Automatic checkpoints are off: the queue checkpoints in a thread.
    """
    if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
        raise RuntimeError(
            f"the SQLite queue needs SQLite >= 3.35 (RETURNING); this Python has "
            f"{sqlite3.sqlite_version}"
        )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        ":memory:" if path is None else path,
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=False,
        cached_statements=256,
    )
    if path is not None:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def ensure_schema(db: sqlite3.Connection) -> None:
    """Create the tables once per file (several processes may race here; one wins)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"the queue file has schema {version}; this MangaAssist reads {SCHEMA_VERSION}"
            )
        if version < SCHEMA_VERSION:
            for statement in _TABLES.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class QueueFile:
    """The open queue file: a connection used inline on the event loop, write transactions,
    and WAL checkpoints in a worker thread."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.db = connect(path)
        ensure_schema(self.db)
        self._checkpointer: asyncio.Task[None] | None = None
        self._checkpoint_db: sqlite3.Connection | None = None

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; ``IMMEDIATE`` takes the write lock first, so what it reads
        no other writer changes before it commits (call it from the event loop)."""
        if self.path is not None and self._checkpointer is None:
            self._checkpointer = asyncio.get_running_loop().create_task(self._checkpoint_forever())
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def _checkpoint(self) -> None:
        if self._checkpoint_db is None:
            self._checkpoint_db = connect(self.path)
        self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def _checkpoint_forever(self) -> None:
        # Checkpoints are the only fsyncs of WAL with synchronous=NORMAL: keep them off the loop.
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            await asyncio.to_thread(self._checkpoint)

    async def close(self) -> None:
        """Stop checkpointing, leave a compact file behind, and close the connections."""
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
            await asyncio.to_thread(self._checkpoint)
        if self._checkpoint_db is not None:
            self._checkpoint_db.close()
            self._checkpoint_db = None
        self.db.close()


def dump_config(config: QueueConfig) -> str:
    """A queue's settings as stored in ``queue_configs``."""
    return json.dumps(asdict(config))


def load_config(settings: str) -> QueueConfig:
    """The inverse of ``dump_config``."""
    fields: dict[str, Any] = json.loads(settings)
    redrive = fields.pop("redrive")
    return QueueConfig(**fields, redrive=None if redrive is None else RedrivePolicy(**redrive))
