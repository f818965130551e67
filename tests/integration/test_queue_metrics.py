"""Queue metrics as an operator's dashboard reads them from ``/metrics``."""

from __future__ import annotations

import math
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from mangaassist.observability.queue_metrics import QueueMetrics
from mangaassist.queues.sqlite import SqliteQueue
from mangaassist.queues.topology import DEFAULT_TOPOLOGY, ensure_topology
from mangaassist.queues.worker import job_body
from tests.integration.queue_fixtures import FakeClock


def _value(text: str, line_start: str) -> float:
    [line] = [line for line in text.splitlines() if line.startswith(line_start)]
    return float(line.rsplit(" ", 1)[1])


async def test_depth_in_flight_age_dlq_and_backlog_per_worker(tmp_path: Path) -> None:
    clock = FakeClock()
    queues = SqliteQueue(f"sqlite:///{tmp_path / 'q.db'}", clock=clock)
    await ensure_topology(queues, DEFAULT_TOPOLOGY)
    for i in range(25):
        await queues.send("manga-fm-normal", job_body("batch_analysis", str(i), {}))
    await queues.receive("manga-fm-normal", max_messages=5)
    await queues.send("manga-fm-dlq", job_body("callback", "c", {}))
    clock.advance(90)
    registry = CollectorRegistry()
    metrics = QueueMetrics(registry)
    metrics.worker_started()
    metrics.job_outcome("batch_analysis", "dead_lettered", "permanent")
    await metrics.refresh(queues, DEFAULT_TOPOLOGY)
    await queues.close()

    text = generate_latest(registry).decode()
    normal = '{queue="manga-fm-normal"'
    assert _value(text, f'mangaassist_queue_messages{normal},state="visible"}}') == 20
    assert _value(text, f'mangaassist_queue_messages{normal},state="in_flight"}}') == 5
    assert _value(text, f"mangaassist_queue_oldest_message_age_seconds{normal}}}") >= 90
    assert _value(text, 'mangaassist_dlq_messages{queue="manga-fm-dlq"}') == 1
    assert _value(text, f"mangaassist_queue_backlog_per_worker{normal}}}") == 20
    assert _value(text, "mangaassist_workers ") == 1
    assert (
        _value(
            text,
            'mangaassist_jobs_total{failure="permanent",kind="batch_analysis",'
            'outcome="dead_lettered"}',
        )
        == 1
    )
    assert not math.isnan(_value(text, 'mangaassist_dlq_messages{queue="manga-fm-dlq.fifo"}'))
