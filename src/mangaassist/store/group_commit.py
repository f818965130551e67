"""Group commit: concurrent writes of one process share a transaction.

Under load, each chat answer appends its turns. Committing every append separately makes
writers queue on the database's write lock (SQLite has one per database, and its busy handler
waits in coarse sleeps, which is what long latency tails are made of). Here the first writer
starts a transaction and every append that arrives meanwhile joins the next one; each caller
still returns only after its own data is committed, so nothing acknowledged can be lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from mangaassist.store.executor import Executor

__all__ = ["GroupCommitter"]

Write = Callable[[Connection], None]
#: Most writes in one transaction; more wait for the next.
MAX_BATCH = 64


def _new_future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


@dataclass
class _Pending:
    write: Write
    done: asyncio.Future[None] = field(default_factory=_new_future)


class GroupCommitter:
    """Runs writes in shared transactions; a failing write is retried alone to isolate it."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        self._queue: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, write: Write) -> None:
        """Run ``write`` in a transaction shared with concurrent writes; return once committed."""
        pending = _Pending(write)
        self._queue.append(pending)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await asyncio.shield(pending.done)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._commit(batch)
            except Exception:  # one bad write must not fail the others: retry each alone
                for pending in batch:
                    await self._commit_alone(pending)
            else:
                for pending in batch:
                    pending.done.set_result(None)

    async def _commit(self, batch: list[_Pending]) -> None:
        def work(conn: Connection) -> None:
            for pending in batch:
                pending.write(conn)

        await self._executor.write(work)

    async def _commit_alone(self, pending: _Pending) -> None:
        try:
            await self._commit([pending])
        except Exception as exc:
            pending.done.set_exception(exc)
        else:
            pending.done.set_result(None)

    async def drain(self) -> None:
        """Wait for queued writes (before closing the engine)."""
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
