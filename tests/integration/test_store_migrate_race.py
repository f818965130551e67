"""Processes starting together on a fresh SQLite store (an API and a worker, or a CLI command
beside them) migrate it once, without one of them failing on tables the other just created."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from mangaassist.store.migrations import MIGRATIONS
from mangaassist.store.sql import SqlStore


def test_concurrent_first_starts_on_one_sqlite_file_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    starting = threading.Barrier(4)
    versions: list[int] = []
    errors: list[BaseException] = []

    def start() -> None:
        async def migrate() -> int:
            store = SqlStore(url)
            starting.wait()  # every "process" opens the empty file at the same moment
            try:
                return await store.migrate()
            finally:
                await store.close()

        try:
            versions.append(asyncio.run(migrate()))
        except BaseException as exc:  # the test reports it below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert versions == [MIGRATIONS[-1].version] * 4
