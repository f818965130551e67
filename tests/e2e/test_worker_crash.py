"""A worker killed with SIGKILL twice in the middle of 1,000 jobs loses none and pays each once
(on SQLite and on Redis)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mangaassist.queues.base import BatchEntry, QueueBackend
from mangaassist.queues.factory import open_queues
from mangaassist.queues.topology import ensure_topology, load_topology
from mangaassist.queues.worker import job_body
from tests.conftest import REDIS_URL
from tests.e2e.ledger_worker import QUEUE, open_ledger
from tests.integration.queue_backends.redis import redis_namespace  # noqa: F401 - a fixture

JOBS = 1000
DLQ = "ledger-dlq"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=["sqlite", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    topology = tmp_path / "queues.json"
    topology.write_text(
        json.dumps(
            {
                "queues": [
                    {"name": DLQ, "retentionS": 86400},
                    {
                        "name": QUEUE,
                        "visibilityTimeoutS": 2,  # a killed worker's jobs return quickly
                        "redrive": {"deadLetter": DLQ, "maxReceiveCount": 10},
                    },
                ]
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANGAASSIST_")}
    env["MANGAASSIST_STORE_URL"] = f"sqlite:///{tmp_path / 'store.db'}"
    if request.param == "redis":
        env["MANGAASSIST_QUEUES_URL"] = REDIS_URL
        env["MANGAASSIST_QUEUES_NAMESPACE"] = request.getfixturevalue("redis_namespace")
    else:
        env["MANGAASSIST_QUEUES_URL"] = f"sqlite:///{tmp_path / 'queues.db'}"
    env["MANGAASSIST_QUEUES_TOPOLOGY_FILE"] = str(topology)
    env["MANGAASSIST_LOG_LEVEL"] = "error"
    return env


class Workers:
    """Starts ledger workers and kills them."""

    def __init__(self, env: dict[str, str], ledger: Path, log: Path) -> None:
        self._env, self._ledger, self._log = env, ledger, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.e2e.ledger_worker", str(self._ledger)],
                env=self._env,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=Path(__file__).resolve().parents[2],
            )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == b"ready", self._log.read_text()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: nothing of the worker's cleanup runs
        self.process.wait(10)
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(30)
        self._close()
        return status


@pytest.fixture
def workers(env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    made = Workers(env, tmp_path / "ledger.db", tmp_path / "worker.log")
    yield made
    if made.process is not None and made.process.poll() is None:
        made.kill()


def _paid(ledger: Path) -> tuple[int, int, int]:
    """Payments, their total and job starts so far."""
    db = open_ledger(str(ledger))
    try:
        count, total = db.execute(
            "SELECT count(*), coalesce(sum(amount), 0) FROM payments"
        ).fetchone()
        [attempts] = db.execute("SELECT count(*) FROM attempts").fetchone()
    finally:
        db.close()
    return count, total, attempts


def _wait_for_payments(ledger: Path, at_least: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while _paid(ledger)[0] < at_least:
        assert time.monotonic() < deadline, f"only {_paid(ledger)[0]} payments after {timeout_s}s"
        time.sleep(0.02)


async def _open(env: dict[str, str]) -> QueueBackend:
    queues = open_queues(
        env["MANGAASSIST_QUEUES_URL"],
        namespace=env.get("MANGAASSIST_QUEUES_NAMESPACE", "mangaassist:queues"),
    )
    await ensure_topology(queues, load_topology(Path(env["MANGAASSIST_QUEUES_TOPOLOGY_FILE"])))
    return queues


async def _enqueue(env: dict[str, str]) -> None:
    queues = await _open(env)
    for start in range(0, JOBS, 10):
        entries = [
            BatchEntry(str(i), job_body("pay", f"pay-{i}", {"amount": i + 1}))
            for i in range(start, start + 10)
        ]
        assert all(r.ok for r in await queues.send_batch(QUEUE, entries))
    await queues.close()


async def _depths(env: dict[str, str]) -> tuple[int, int]:
    queues = await _open(env)
    work, dead = await queues.attributes(QUEUE), await queues.attributes(DLQ)
    await queues.close()
    return work.visible + work.in_flight + work.delayed, dead.visible + dead.in_flight


def test_killed_twice_mid_run_every_job_completes_once(
    env: dict[str, str], workers: Workers, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.db"
    asyncio.run(_enqueue(env))
    workers.start()
    _wait_for_payments(ledger, 250)
    workers.kill()
    killed_at = _paid(ledger)[0]
    assert killed_at < JOBS  # killed mid-run
    workers.start()
    _wait_for_payments(ledger, killed_at + 300)
    workers.kill()
    workers.start()
    _wait_for_payments(ledger, JOBS)
    deadline = time.monotonic() + 30
    while asyncio.run(_depths(env))[0] and time.monotonic() < deadline:
        time.sleep(0.2)  # the last deletes, and jobs a kill left in flight, finish
    assert workers.stop() == 0  # SIGTERM: a clean, drained exit

    count, total, attempts = _paid(ledger)
    assert count == JOBS  # none lost
    assert total == JOBS * (JOBS + 1) // 2  # each paid once, with its own amount
    assert attempts > JOBS  # the kills interrupted jobs, which ran again
    assert asyncio.run(_depths(env)) == (0, 0)  # nothing left behind, nothing dead-lettered
