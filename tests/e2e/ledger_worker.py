"""A worker process for the crash test: its one job kind, ``pay``, pays into a ledger.

``python -m tests.e2e.ledger_worker LEDGER_PATH`` with the queues from the environment
(``MANGAASSIST_QUEUES_URL``, ``MANGAASSIST_QUEUES_TOPOLOGY_FILE``). A payment is a side effect
outside the queue, so a worker killed after paying but before deleting the message gets the job
again: the handler makes the payment idempotent by its job id (the key of the ``payments``
table), which is how a job's effect happens once on queues that deliver at least once. Every
start of a job is recorded in ``attempts``, so the test can see the redeliveries.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import sys

from mangaassist.bootstrap import build
from mangaassist.observability.logging import configure_logging
from mangaassist.queues.runtime import background_jobs
from mangaassist.queues.worker import Job
from mangaassist.settings import Settings

QUEUE = "ledger"
SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (job_id TEXT PRIMARY KEY, amount INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (job_id TEXT NOT NULL);
"""


def open_ledger(path: str) -> sqlite3.Connection:
    """The ledger file (created on first use), in autocommit mode."""
    ledger = sqlite3.connect(path, timeout=30, isolation_level=None)
    ledger.execute("PRAGMA journal_mode=WAL")
    ledger.executescript(SCHEMA)
    return ledger


async def main(path: str) -> None:
    ledger = open_ledger(path)

    async def pay(job: Job) -> None:
        ledger.execute("INSERT INTO attempts VALUES (?)", (job.id,))
        await asyncio.sleep(random.uniform(0.005, 0.03))
        ledger.execute(
            "INSERT INTO payments VALUES (?, ?) ON CONFLICT (job_id) DO NOTHING",
            (job.id, int(job.payload["amount"])),
        )
        await asyncio.sleep(random.uniform(0, 0.01))

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    container = build(settings)
    await container.start()
    container.jobs.register("pay", pay, timeout_s=10)
    async with background_jobs(container, worker=True, queues=[QUEUE], concurrency=10):
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        print("ready", flush=True)
        await stop.wait()  # SIGTERM drains, as `mangaassist worker` does; SIGKILL just kills
    await container.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
