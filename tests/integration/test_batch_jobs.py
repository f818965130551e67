"""Batch analysis jobs and their callbacks on a real store, a real queue and a real HTTP
receiver: retries, dead letters, idempotency, the crash sweep and the SSRF guard at delivery."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mangaassist.analysis.base import AnalysisResult, UnknownSeriesError
from mangaassist.domain.batch import BatchItem, ItemStatus
from mangaassist.jobs.batch import ANALYSIS_JOB, CALLBACK_JOB, BatchConfig, BatchJobs, NewItem
from mangaassist.jobs.callbacks import CallbackJobs
from mangaassist.llm.base import ModelError
from mangaassist.queues.base import BatchEntry, BatchResult
from mangaassist.queues.sqlite import SqliteQueue
from mangaassist.queues.topology import DEFAULT_TOPOLOGY, ensure_topology
from mangaassist.queues.worker import Job, JobRegistry, Worker
from mangaassist.store.sql import SqlStore
from mangaassist.webhooks.delivery import WebhookClient
from mangaassist.webhooks.outbound import OutboundWebhooks
from mangaassist.webhooks.signing import new_secret, verify
from mangaassist.webhooks.ssrf import Resolver

pytestmark = pytest.mark.timeout(60)
QUEUE = "manga-fm-high-priority"
DLQ = "manga-fm-dlq"
SECRET = new_secret()


class FakeAnalyzer:
    """Answers every series with a small JSON result; ``failure`` makes every call raise."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.failure = failure

    async def analyze(
        self, series_id: str, analysis_type: str, *, additional_context: str | None = None
    ) -> AnalysisResult:
        self.calls.append((series_id, analysis_type))
        if self.failure is not None:
            raise self.failure
        return AnalysisResult(
            series_id=series_id,
            analysis_type=analysis_type,
            data={"genre": "fantasy"},
            raw_text='{"genre": "fantasy"}',
            model_id="anthropic.claude-3-haiku-20240307-v1:0",
            input_tokens=1200,
            output_tokens=80,
            cost_usd=0.0004,
        )


@dataclass
class Receiver:
    """A real HTTP server on loopback answering with scripted statuses, recording requests."""

    statuses: list[tuple[int, dict[str, str]]]
    requests: list[tuple[float, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/manga"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(statuses=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            state.requests.append(
                (time.monotonic(), {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status, headers = state.statuses.pop(0) if state.statuses else (200, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class Rig:
    store: SqlStore
    queues: SqliteQueue
    analyzer: FakeAnalyzer
    batches: BatchJobs
    callbacks: CallbackJobs
    worker: Worker


async def _rig(
    tmp_path: Path, analyzer: FakeAnalyzer, resolver: Resolver | None = None
) -> AsyncIterator[Rig]:
    store = SqlStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    await store.migrate()
    queues = SqliteQueue(":memory:")
    await ensure_topology(queues, DEFAULT_TOPOLOGY)
    client = WebhookClient(["127.0.0.1"], timeout_s=5, resolver=resolver)
    batches = BatchJobs(store, queues, analyzer, BatchConfig(requeue_after_s=0))
    # The webhook schedule shortened to test speed: immediately, then 50 ms between attempts.
    outbound = OutboundWebhooks(client, store, lambda: SECRET, schedule=(0, 0.05, 0.05))
    callbacks = CallbackJobs(store, queues, outbound)
    registry = JobRegistry()
    registry.register(ANALYSIS_JOB, batches.handle, timeout_s=10)
    registry.register(CALLBACK_JOB, callbacks.handle, timeout_s=10)
    worker = Worker(queues, registry, [QUEUE], concurrency=4, wait_s=0.05, retry_base_s=0.05)
    running = asyncio.create_task(worker.run())
    try:
        yield Rig(store, queues, analyzer, batches, callbacks, worker)
    finally:
        worker.stop()
        await asyncio.wait_for(running, 10)
        await client.close()
        await queues.close()
        await store.close()


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    async for r in _rig(tmp_path, FakeAnalyzer()):
        yield r


async def eventually(store: SqlStore, request_id: str, done: Any) -> BatchItem:
    """The item once ``done(item)`` holds (polled), else fail with the last state."""
    item = None
    for _ in range(200):
        item = await store.get_batch_item(request_id)
        if item is not None and done(item):
            return item
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached: {item}")


async def _submit(rig: Rig, callback_url: str | None = None, manga_id: str = "MNG-L53JXTJI") -> str:
    _, [item] = await rig.batches.submit(
        [NewItem(manga_id, "genre_classification")], priority="high", callback_url=callback_url
    )
    return item.request_id


async def test_the_callback_is_signed_and_retried_after_a_500(rig: Rig, receiver: Receiver) -> None:
    receiver.statuses = [(500, {}), (200, {})]

    request_id = await _submit(rig, receiver.url)
    item = await eventually(rig.store, request_id, lambda i: i.callback_state == "delivered")

    assert len(receiver.requests) == 2
    ids = {headers["webhook-id"] for _, headers, _ in receiver.requests}
    assert ids == {f"msg_{request_id}"}  # one message id for every retry
    for _, headers, body in receiver.requests:
        verify(SECRET, headers, body)
        assert headers["content-type"] == "application/json"
        assert headers["host"] == f"127.0.0.1:{receiver.port}"
    assert receiver.requests[0][2] == receiver.requests[1][2]  # the same bytes each time
    payload = json.loads(receiver.requests[1][2])
    assert payload["type"] == "batch_analysis.completed"
    assert payload["data"]["requestId"] == request_id
    assert payload["data"]["status"] == "completed"
    assert payload["data"]["result"] == {"genre": "fantasy"}
    assert payload["data"]["usage"] == {"inputTokens": 1200, "outputTokens": 80}
    assert payload["data"]["costUsd"] == 0.0004
    assert item.callback_attempts == 2
    assert item.callback_error is None
    assert item.callback_delivered_at is not None


async def test_retry_after_of_a_429_is_honoured(rig: Rig, receiver: Receiver) -> None:
    receiver.statuses = [(429, {"Retry-After": "1"}), (200, {})]

    request_id = await _submit(rig, receiver.url)
    await eventually(rig.store, request_id, lambda i: i.callback_state == "delivered")

    first, second = receiver.requests[0][0], receiver.requests[1][0]
    assert second - first >= 0.9


async def test_a_4xx_fails_the_callback_at_once_with_the_reason_in_the_dlq(
    rig: Rig, receiver: Receiver
) -> None:
    receiver.statuses = [(410, {})]

    request_id = await _submit(rig, receiver.url)
    item = await eventually(rig.store, request_id, lambda i: i.callback_state == "failed")

    assert len(receiver.requests) == 1
    assert item.status == ItemStatus.COMPLETED  # the analysis stands; only the callback failed
    assert item.callback_error == "HTTP 410"
    [dead] = await rig.queues.receive(DLQ)
    assert json.loads(dead.body)["kind"] == CALLBACK_JOB
    assert dead.attributes["dlq.reason"] == "callback refused by the receiver: HTTP 410"


async def test_5xx_on_every_receive_ends_in_the_dlq_with_the_reason(
    rig: Rig, receiver: Receiver
) -> None:
    receiver.statuses = [(503, {})] * 3

    request_id = await _submit(rig, receiver.url)
    item = await eventually(rig.store, request_id, lambda i: i.callback_state == "failed")

    assert len(receiver.requests) == 3  # the queue's max receives
    assert item.callback_attempts == 3
    [dead] = await rig.queues.receive(DLQ)
    assert dead.attributes["dlq.reason"] == "callback not delivered: HTTP 503"


async def test_a_name_rebound_to_loopback_is_refused_at_delivery(
    tmp_path: Path, receiver: Receiver
) -> None:
    async def rebinding(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]  # accepted as public at request time, loopback now

    async for rig in _rig(tmp_path, FakeAnalyzer(), resolver=rebinding):
        url = f"https://hooks.partner.example:{receiver.port}/x"
        request_id = await _submit(rig, url)
        item = await eventually(rig.store, request_id, lambda i: i.callback_state == "failed")

        assert receiver.requests == []
        assert item.callback_error is not None
        assert item.callback_error.startswith("CALLBACK_URL_FORBIDDEN")


async def test_a_redelivered_job_is_not_analysed_or_counted_twice(tmp_path: Path) -> None:
    async for rig in _rig(tmp_path, FakeAnalyzer()):
        request_id = await _submit(rig)
        done = await eventually(rig.store, request_id, lambda i: i.status == "completed")

        job = Job(ANALYSIS_JOB, request_id, {"requestId": request_id}, 2, QUEUE)
        await rig.batches.handle(job)  # the same job, delivered again

        again = await rig.store.get_batch_item(request_id)
        assert rig.analyzer.calls == [("MNG-L53JXTJI", "genre_classification")]
        assert again is not None
        assert again.result == done.result
        assert again.attempts == 1


class DownQueue(SqliteQueue):
    """A queue whose sends fail: the process died between the store write and the send."""

    async def send_batch(self, queue: str, entries: Sequence[BatchEntry]) -> list[BatchResult]:
        raise OSError("connection reset")


async def test_items_a_crash_kept_out_of_the_queue_are_enqueued_by_the_sweep(
    tmp_path: Path,
) -> None:
    async for rig in _rig(tmp_path, FakeAnalyzer()):
        crashed = BatchJobs(rig.store, DownQueue(":memory:"), rig.analyzer)
        _, items = await crashed.submit(
            [NewItem("MNG-L53JXTJI", "reading_level")] * 3, priority="high"
        )
        await asyncio.sleep(0.2)
        stored = [await rig.store.get_batch_item(i.request_id) for i in items]
        assert [s.status if s else None for s in stored] == ["queued"] * 3  # nobody runs them

        counts = await rig.batches.sweep()

        assert counts.enqueued == 3
        for item in items:
            await eventually(rig.store, item.request_id, lambda i: i.status == "completed")
        assert (await rig.batches.sweep()).enqueued == 0


async def test_model_errors_are_retried_then_fail_the_item_with_the_reason(
    tmp_path: Path, receiver: Receiver
) -> None:
    async for rig in _rig(tmp_path, FakeAnalyzer(ModelError("throttled by Bedrock"))):
        request_id = await _submit(rig, receiver.url)
        item = await eventually(rig.store, request_id, lambda i: i.status == "failed")

        assert item.attempts == 3
        assert item.failure is not None
        assert item.failure.code == "ANALYSIS_FAILED"
        assert "throttled by Bedrock" in item.failure.message
        await eventually(rig.store, request_id, lambda i: i.callback_state == "delivered")
        payload = json.loads(receiver.requests[0][2])
        assert payload["type"] == "batch_analysis.failed"
        assert payload["data"]["error"]["code"] == "ANALYSIS_FAILED"
        [dead] = await rig.queues.receive(DLQ)
        assert "throttled by Bedrock" in dead.attributes["dlq.reason"]


class BrokenStore(SqlStore):
    """A store that cannot write results (the design documents' silent write failure)."""

    async def complete_batch_item(self, *args: Any, **kwargs: Any) -> bool:
        raise PermissionError("access denied on batch_items")


async def test_a_store_write_failure_fails_the_job_loudly(tmp_path: Path) -> None:
    store = BrokenStore(f"sqlite:///{tmp_path / 'broken.db'}")
    await store.migrate()
    queues = SqliteQueue(":memory:")
    await ensure_topology(queues, DEFAULT_TOPOLOGY)
    batches = BatchJobs(store, queues, FakeAnalyzer())
    try:
        _, [item] = await batches.submit([NewItem("MNG-L53JXTJI", "reading_level")])
        job = Job(ANALYSIS_JOB, item.request_id, {"requestId": item.request_id}, 1, QUEUE)

        with pytest.raises(PermissionError):
            await batches.handle(job)

        stored = await store.get_batch_item(item.request_id)
        assert stored is not None
        assert stored.status == "processing"
    finally:
        await queues.close()
        await store.close()


async def test_an_unknown_series_fails_permanently_without_retries(tmp_path: Path) -> None:
    async for rig in _rig(tmp_path, FakeAnalyzer(UnknownSeriesError("gone"))):
        request_id = await _submit(rig, manga_id="MNG-ZZZZZZZZ")
        item = await eventually(rig.store, request_id, lambda i: i.status == "failed")

        assert item.attempts == 1
        assert item.failure is not None
        assert item.failure.code == "UNKNOWN_SERIES"
