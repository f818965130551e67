"""Queue benchmark: end-to-end job throughput (send -> receive -> run -> delete) per backend.

Run with ``python -m bench.queues [--jobs N] [--backends sqlite,redis,sqs] [--no-peer]``.

For each backend a producer sends the jobs in batches of 10 while MangaAssist's own ``Worker``
(concurrency 10, batched deletes) runs them, all in one process on this 2-core machine; the time
runs from the first send to the last delete. Two job kinds: no-op, and 100 ms of I/O
(``asyncio.sleep(0.1)``: at concurrency 10 the ceiling is 100 jobs/s). In the same run, the
peer, Dramatiq with its Redis broker on the same Redis, does the same work with 10 worker
threads (``time.sleep(0.1)`` for the I/O job), messages sent one by one (it has no batch send),
timed from the first send until ``broker.join`` sees the queue drained.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.results import record_section
from mangaassist.observability.logging import configure_logging
from mangaassist.queues.base import BatchEntry, QueueBackend, QueueConfig
from mangaassist.queues.factory import open_queues
from mangaassist.queues.worker import Job, JobRegistry, Worker, job_body
from tests.moto_server import MotoServer, start_moto_server

REDIS_URL = os.environ.get("MANGAASSIST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
CONCURRENCY = 10
IO_JOB_S = 0.1


async def _noop(job: Job) -> None:
    return None


async def _io(job: Job) -> None:
    await asyncio.sleep(IO_JOB_S)


async def _run_jobs(backend: QueueBackend, jobs: int, handler: Callable[[Job], object]) -> float:
    """Jobs per second through ``backend`` with the product's worker."""
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    await backend.create_queue(QueueConfig(queue, visibility_timeout_s=60))
    done = asyncio.Event()
    finished = 0

    def outcome(kind: str, result: str, failure: str) -> None:
        nonlocal finished
        finished += 1
        if finished == jobs:
            done.set()

    registry = JobRegistry()
    registry.register("job", handler)  # type: ignore[arg-type]
    worker = Worker(
        backend, registry, [queue], concurrency=CONCURRENCY, wait_s=1.0, on_outcome=outcome
    )
    started = time.perf_counter()
    running = asyncio.create_task(worker.run())
    body = job_body("job", "x", {})
    for first in range(0, jobs, 10):
        entries = [BatchEntry(str(i), body) for i in range(min(10, jobs - first))]
        await backend.send_batch(queue, entries)
        await asyncio.sleep(0)  # let the worker interleave, as a separate producer would
    await asyncio.wait_for(done.wait(), timeout=600)
    elapsed = time.perf_counter() - started
    worker.stop()
    await running
    await backend.purge(queue)
    return jobs / elapsed


def _open(name: str, home: Path, moto: MotoServer | None) -> QueueBackend:
    if name == "sqlite":
        return open_queues(f"sqlite:///{home / f'bench-{uuid.uuid4().hex[:6]}.db'}")
    if name == "redis":
        return open_queues(REDIS_URL, namespace=f"bench:{uuid.uuid4().hex[:6]}")
    if name == "sqs":
        assert moto is not None
        return open_queues(moto.sqs_url(prefix=f"bench-{uuid.uuid4().hex[:6]}-"))
    raise ValueError(name)


def _dramatiq(jobs: int, io: bool) -> float:
    """Jobs per second through Dramatiq's Redis broker with 10 worker threads."""
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    namespace = f"bench-dramatiq-{uuid.uuid4().hex[:6]}"
    broker = RedisBroker(url=REDIS_URL, namespace=namespace)  # type: ignore[no-untyped-call]
    dramatiq.set_broker(broker)
    lock = threading.Lock()
    finished = 0

    @dramatiq.actor(broker=broker, queue_name="bench", max_retries=0)
    def job() -> None:
        nonlocal finished
        if io:
            time.sleep(IO_JOB_S)
        with lock:
            finished += 1

    worker = dramatiq.Worker(broker, worker_threads=CONCURRENCY, worker_timeout=100)
    worker.start()
    try:
        started = time.perf_counter()
        for _ in range(jobs):
            job.send()
        broker.join("bench", timeout=600_000)
        while finished < jobs:
            time.sleep(0.001)
        elapsed = time.perf_counter() - started
    finally:
        worker.stop()
        broker.flush_all()
        broker.close()
    return jobs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20_000, help="No-op jobs per backend.")
    parser.add_argument("--io-jobs", type=int, default=500, help="100 ms jobs per backend.")
    parser.add_argument("--backends", default="sqlite,redis,sqs")
    parser.add_argument(
        "--sqs-jobs", type=int, default=300, help="Jobs of each kind on SQS (moto is slow)."
    )
    parser.add_argument("--no-peer", action="store_true", help="Skip Dramatiq.")
    args = parser.parse_args()
    configure_logging("warning", "console")
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    rows: list[tuple[str, float, float]] = []
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as home:
        moto = stack.enter_context(start_moto_server()) if "sqs" in names else None
        for name in names:
            count = args.sqs_jobs if name == "sqs" else args.jobs
            io_count = min(args.io_jobs, args.sqs_jobs) if name == "sqs" else args.io_jobs
            noop = asyncio.run(_measure(name, Path(home), moto, count, _noop))
            io = asyncio.run(_measure(name, Path(home), moto, io_count, _io))
            rows.append((f"MangaAssist {name}", noop, io))
            print(f"{name}: {noop:,.0f} no-op jobs/s, {io:,.1f} 100 ms jobs/s", flush=True)
    if not args.no_peer:
        noop = _dramatiq(args.jobs, io=False)
        io = _dramatiq(args.io_jobs, io=True)
        rows.append(("Dramatiq (Redis broker)", noop, io))
        print(f"dramatiq: {noop:,.0f} no-op jobs/s, {io:,.1f} 100 ms jobs/s", flush=True)
    _record(args, rows)


async def _measure(
    name: str, home: Path, moto: MotoServer | None, jobs: int, handler: Callable[[Job], object]
) -> float:
    backend = _open(name, home, moto)
    try:
        return await _run_jobs(backend, jobs, handler)
    finally:
        await backend.close()


def _record(args: argparse.Namespace, rows: list[tuple[str, float, float]]) -> None:
    lines = [
        "## Queues: end-to-end job throughput",
        "",
        f"Command: `python -m bench.queues --jobs {args.jobs} --io-jobs {args.io_jobs} "
        f"--backends {args.backends}`  ",
        f"Recorded {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, "
        f"{os.cpu_count()} cores; producer and worker in one process, concurrency "
        f"{CONCURRENCY}; SQS is moto on localhost ({args.sqs_jobs} jobs of each kind): moto's "
        "cost per request grows with the queue's length, so its row measures moto, not SQS.",
        "",
        "| backend | no-op jobs/s | 100 ms I/O jobs/s (ceiling 100) |",
        "|---|---:|---:|",
        *(f"| {name} | {noop:,.0f} | {io:,.1f} |" for name, noop, io in rows),
        "",
    ]
    record_section("Queues:", "\n".join(lines))


if __name__ == "__main__":
    main()
