"""The worker on a real queue backend: concurrency, retries, dead letters, heartbeat, drain."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from mangaassist.queues.base import QueueBackend, QueueConfig, RedrivePolicy
from mangaassist.queues.redis import RedisQueue
from mangaassist.queues.sqlite import SqliteQueue
from mangaassist.queues.worker import (
    Job,
    JobRegistry,
    PermanentError,
    TransientError,
    Worker,
    job_body,
)
from tests.conftest import REDIS_URL
from tests.integration.queue_backends.redis import redis_namespace  # noqa: F401 - a fixture

WORK, DLQ = "work", "work-dlq"


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[QueueBackend]:
    """The worker on each backend with a clock of its own (the real one: jobs really sleep)."""
    if request.param == "redis":
        namespace = request.getfixturevalue("redis_namespace")
        queue: QueueBackend = RedisQueue(REDIS_URL, namespace=namespace)
    else:
        queue = SqliteQueue(":memory:")
    await queue.create_queue(QueueConfig(DLQ))
    await queue.create_queue(
        QueueConfig(WORK, visibility_timeout_s=1.0, redrive=RedrivePolicy(DLQ, 3))
    )
    yield queue
    await queue.close()


async def run_until(worker: Worker, done: asyncio.Event, timeout_s: float = 10) -> None:
    running = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(done.wait(), timeout_s)
    finally:
        worker.stop()
        await asyncio.wait_for(running, 10)


async def test_jobs_of_a_batch_run_concurrently(backend: QueueBackend) -> None:
    active = peak = finished = 0
    done = asyncio.Event()

    async def slow(job: Job) -> None:
        nonlocal active, peak, finished
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.2)
        active -= 1
        finished += 1
        if finished == 6:
            done.set()

    registry = JobRegistry()
    registry.register("slow", slow)
    for i in range(6):
        await backend.send(WORK, job_body("slow", f"j{i}", {}))
    worker = Worker(backend, registry, [WORK], concurrency=6, wait_s=0.1)
    await run_until(worker, done)
    assert peak == 6  # all six at once, never one after another
    assert worker.stats.succeeded == 6
    assert (await backend.attributes(WORK)).visible == 0


async def test_transient_failures_are_retried_then_succeed(backend: QueueBackend) -> None:
    attempts: list[int] = []
    done = asyncio.Event()

    async def flaky(job: Job) -> None:
        attempts.append(job.receive_count)
        if job.receive_count < 2:
            raise TransientError("the model timed out")
        done.set()

    registry = JobRegistry()
    registry.register("flaky", flaky)
    await backend.send(WORK, job_body("flaky", "j1", {"mangaId": "MNG-AAAAAAAA"}))
    worker = Worker(backend, registry, [WORK], wait_s=0.1, retry_base_s=0.05)
    await run_until(worker, done)
    assert attempts == [1, 2]
    assert worker.stats.retried == 1
    assert worker.stats.succeeded == 1


async def test_permanent_failure_goes_straight_to_the_dlq_with_its_reason(
    backend: QueueBackend,
) -> None:
    async def broken(job: Job) -> None:
        raise PermanentError("MNG-ZZZZZZZZ is not in the catalog")

    registry = JobRegistry()
    registry.register("enrich", broken)
    await backend.send(WORK, job_body("enrich", "j1", {}))
    worker = Worker(backend, registry, [WORK], wait_s=0.1)
    done = asyncio.Event()
    worker._on_outcome = lambda kind, outcome, failure: done.set()
    await run_until(worker, done)
    [dead] = await backend.receive(DLQ)
    assert dead.attributes["dlq.failure"] == "permanent"
    assert dead.attributes["dlq.reason"] == "MNG-ZZZZZZZZ is not in the catalog"
    assert dead.attributes["dlq.source"] == WORK
    assert dead.receive_count == 1
    assert (await backend.attributes(WORK)).visible == 0


async def test_unknown_kinds_and_garbage_are_dead_lettered(backend: QueueBackend) -> None:
    await backend.send(WORK, job_body("nobody-handles-this", "j1", {}))
    await backend.send(WORK, "{not json")
    outcomes: list[str] = []
    done = asyncio.Event()

    def seen(kind: str, outcome: str, failure: str) -> None:
        outcomes.append(outcome)
        if len(outcomes) == 2:
            done.set()

    worker = Worker(backend, JobRegistry(), [WORK], wait_s=0.1, on_outcome=seen)
    await run_until(worker, done)
    assert outcomes == ["dead_lettered", "dead_lettered"]
    reasons = {m.attributes["dlq.reason"] for m in await backend.receive(DLQ, max_messages=10)}
    assert any("nobody-handles-this" in r for r in reasons)
    assert any("not a job message" in r for r in reasons)


async def test_a_poison_message_reaches_the_dlq_after_three_receives(
    backend: QueueBackend,
) -> None:
    receives: list[int] = []

    async def always_fails(job: Job) -> None:
        receives.append(job.receive_count)
        raise TransientError("still failing")

    registry = JobRegistry()
    registry.register("poison", always_fails)
    await backend.send(WORK, job_body("poison", "p1", {}))
    worker = Worker(backend, registry, [WORK], wait_s=0.1, retry_base_s=0.01)
    running = asyncio.create_task(worker.run())
    for _ in range(100):
        if (await backend.attributes(DLQ)).visible:
            break
        await asyncio.sleep(0.1)
    worker.stop()
    await running
    assert receives == [1, 2, 3]  # the third was the last try the redrive policy allows
    [dead] = await backend.receive(DLQ, visibility_timeout_s=0)
    assert dead.attributes["dlq.failure"] == "transient"
    assert dead.attributes["dlq.reason"] == "still failing"
    assert dead.attributes["dlq.receive_count"] == "3"
    assert await backend.redrive(DLQ, to=WORK) == 1
    [back] = await backend.receive(WORK)
    assert back.body == job_body("poison", "p1", {})
    assert back.receive_count == 1


async def test_heartbeat_keeps_a_long_job_from_a_second_worker(backend: QueueBackend) -> None:
    runs = 0
    done = asyncio.Event()

    async def long(job: Job) -> None:  # 2.5 s on a queue with a 1 s visibility timeout
        nonlocal runs
        runs += 1
        await asyncio.sleep(2.5)
        done.set()

    registry = JobRegistry()
    registry.register("long", long)
    await backend.send(WORK, job_body("long", "j1", {}))
    first = Worker(backend, registry, [WORK], wait_s=0.1)
    second = Worker(backend, registry, [WORK], wait_s=0.1)
    other = asyncio.create_task(second.run())
    await run_until(first, done)
    second.stop()
    await other
    assert runs == 1
    assert first.stats.succeeded + second.stats.succeeded == 1


async def test_stop_drains_in_flight_jobs(backend: QueueBackend) -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def job(job: Job) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(job.id)

    registry = JobRegistry()
    registry.register("job", job)
    await backend.send(WORK, job_body("job", "j1", {}))
    worker = Worker(backend, registry, [WORK], wait_s=0.1)
    running = asyncio.create_task(worker.run())
    await started.wait()
    worker.stop()  # SIGTERM: no new receives, but the job in hand finishes
    await asyncio.wait_for(running, 5)
    assert finished == ["j1"]
    assert (await backend.attributes(WORK)).in_flight == 0


async def test_a_job_over_its_timeout_is_retried(backend: QueueBackend) -> None:
    outcomes: list[tuple[str, str]] = []
    done = asyncio.Event()

    async def hangs(job: Job) -> None:
        await asyncio.sleep(10)

    def seen(kind: str, outcome: str, failure: str) -> None:
        outcomes.append((outcome, failure))
        done.set()

    registry = JobRegistry()
    registry.register("hangs", hangs, timeout_s=0.2)
    await backend.send(WORK, job_body("hangs", "j1", {}))
    await run_until(Worker(backend, registry, [WORK], wait_s=0.1, on_outcome=seen), done)
    assert outcomes[0] == ("retried", "timeout")


async def test_fifo_order_per_group_holds_with_concurrency_8_and_duplicates_are_dropped(
    backend: QueueBackend,
) -> None:
    queue = backend
    await queue.create_queue(QueueConfig("orders.fifo", visibility_timeout_s=5))
    groups, per_group = 6, 15
    seen: dict[str, list[int]] = {}
    active = peak = 0
    done = asyncio.Event()

    async def record(job: Job) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(random.uniform(0.001, 0.02))
        seen.setdefault(str(job.payload["group"]), []).append(int(job.payload["seq"]))
        active -= 1
        if sum(map(len, seen.values())) == groups * per_group:
            done.set()

    for seq in range(per_group):
        for g in range(groups):
            body = job_body("record", f"g{g}-{seq}", {"group": f"g{g}", "seq": seq})
            sent = await queue.send("orders.fifo", body, group_id=f"g{g}", dedup_id=f"g{g}-{seq}")
            if (g, seq) == (0, 0):
                original = sent
    again = await queue.send(
        "orders.fifo", job_body("record", "late", {"group": "g0", "seq": 99}),
        group_id="g0", dedup_id="g0-0",
    )  # fmt: skip
    registry = JobRegistry()
    registry.register("record", record)
    worker = Worker(queue, registry, ["orders.fifo"], concurrency=8, wait_s=0.1)
    await run_until(worker, done)
    assert peak > 1  # groups ran side by side
    assert seen == {f"g{g}": list(range(per_group)) for g in range(groups)}  # each in order
    assert again == original  # the duplicate was accepted, answered with the first one's id ...
    assert 99 not in seen["g0"]  # ... and dropped: it never ran
