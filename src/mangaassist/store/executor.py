"""How the SQL store runs its work: one sync SQLAlchemy Core function, two ways to run it.

Every store operation is written once as a function of a synchronous ``Connection``.

- PostgreSQL runs it through the async engine (``AsyncConnection.run_sync``: psycopg's async
  driver underneath, no thread).
- SQLite runs it with the standard library driver: short reads inline on the event loop (a
  primary-key lookup in WAL mode takes tens of microseconds and never waits for a lock), and
  writes and bulk reads in a worker thread, so a busy database never stalls the loop. aiosqlite
  was measured at 1.5 ms for the same primary-key read, nearly all of it spent handing each
  statement to its thread and back.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from mangaassist.store.urls import sqlite_path

__all__ = ["AsyncEngineExecutor", "Executor", "SqliteExecutor", "executor_for"]

T = TypeVar("T")
Work = Callable[[Connection], T]

#: How long a SQLite writer waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: Seconds between background WAL checkpoints (they copy the log into the database file).
CHECKPOINT_INTERVAL_S = 1.0


class Executor(ABC):
    """Runs store work: ``read`` outside a transaction, ``write`` inside one (commit or roll
    back as a whole). ``bulk`` marks work that may take long (whole-catalog reads and loads)."""

    backend: str

    @abstractmethod
    async def read(self, work: Work[T], *, bulk: bool = False) -> T: ...

    @abstractmethod
    async def write(self, work: Work[T], *, bulk: bool = False) -> T: ...

    @abstractmethod
    async def dispose(self) -> None: ...


class AsyncEngineExecutor(Executor):
    """PostgreSQL through SQLAlchemy's async engine."""

    def __init__(self, url: URL, *, echo: bool = False) -> None:
        self.backend = url.get_backend_name()
        self._engine: AsyncEngine = create_async_engine(
            url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True
        )

    async def read(self, work: Work[T], *, bulk: bool = False) -> T:
        async with self._engine.connect() as conn:
            return await conn.run_sync(work)

    async def write(self, work: Work[T], *, bulk: bool = False) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(work)

    async def dispose(self) -> None:
        await self._engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching a new file to WAL takes a lock another process may hold.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Checkpoints (the only fsync in WAL mode with synchronous=NORMAL) run in the background
    # checkpointer, never inside a customer's commit on the event loop.
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


class SqliteExecutor(Executor):
    """SQLite through the standard library driver (see the module docstring)."""

    backend = "sqlite"

    def __init__(self, url: URL, *, echo: bool = False) -> None:
        options: dict[str, Any] = {
            "echo": echo,
            "connect_args": {"check_same_thread": False},
        }
        path = sqlite_path(url)
        if path is None:
            options["poolclass"] = StaticPool  # one shared in-memory database
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._engine: Engine = create_engine(url.set(drivername="sqlite+pysqlite"), **options)
        event.listen(self._engine, "connect", _sqlite_pragmas)
        self._write_lock = asyncio.Lock()
        self._checkpointer: asyncio.Task[None] | None = None
        self._file_backed = path is not None

    def _checkpoint(self) -> None:
        with self._engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    async def _checkpoint_forever(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            await asyncio.to_thread(self._checkpoint)

    def _read(self, work: Work[T]) -> T:
        with self._engine.connect() as conn:
            return work(conn)

    def _write(self, work: Work[T]) -> T:
        with self._engine.begin() as conn:
            return work(conn)

    async def read(self, work: Work[T], *, bulk: bool = False) -> T:
        if bulk:
            return await asyncio.to_thread(self._read, work)
        return self._read(work)

    async def write(self, work: Work[T], *, bulk: bool = False) -> T:
        if self._file_backed and self._checkpointer is None:
            self._checkpointer = asyncio.create_task(self._checkpoint_forever())
        # One writer per process: SQLite has one write lock per database anyway. Short writes
        # (group-committed chat turns: well under a millisecond) run inline; bulk ones (catalog
        # loads) in a thread so the loop keeps serving.
        async with self._write_lock:
            if bulk:
                return await asyncio.to_thread(self._write, work)
            return self._write(work)

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            await asyncio.gather(self._checkpointer, return_exceptions=True)
            self._checkpointer = None
        if self._file_backed:
            await asyncio.to_thread(self._checkpoint)  # leave a compact file behind
        self._engine.dispose()


def executor_for(url: URL, *, echo: bool = False) -> Executor:
    """The executor for a database URL (any driver name; the executor picks its own)."""
    if url.get_backend_name() == "sqlite":
        return SqliteExecutor(url, echo=echo)
    return AsyncEngineExecutor(url, echo=echo)
