"""`mangaassist worker` as an operator runs it: takes jobs, parks failures, drains on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from mangaassist.queues.factory import open_queues
from mangaassist.queues.topology import DEFAULT_TOPOLOGY, ensure_topology
from mangaassist.queues.worker import job_body
from tests.e2e.conftest import CLI

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANGAASSIST_")}
    env["MANGAASSIST_STORE_URL"] = f"sqlite:///{tmp_path / 'store.db'}"
    env["MANGAASSIST_LOG_LEVEL"] = "warning"
    return env


async def _send(url: str, body: str) -> None:
    queues = open_queues(url)
    await ensure_topology(queues, DEFAULT_TOPOLOGY)
    await queues.send("manga-fm-normal", body)
    await queues.close()


def test_worker_dead_letters_an_unknown_job_and_drains_on_sigterm(
    env: dict[str, str], tmp_path: Path
) -> None:
    asyncio.run(_send(f"sqlite:///{tmp_path / 'queues.db'}", job_body("mystery", "m-1", {})))
    worker = subprocess.Popen(
        [*CLI, "worker", "--queues", "manga-fm-normal", "--concurrency", "2"],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        letters: list[dict[str, str]] = []
        while not letters and time.monotonic() < deadline:
            listed = subprocess.run(
                [*CLI, "dlq", "list", "--json"], env=env, capture_output=True, check=True
            )
            letters = [json.loads(line) for line in listed.stdout.decode().splitlines()]
            time.sleep(0.3)
        [letter] = letters
        assert letter["kind"] == "mystery"
        assert letter["failure"] == "permanent"
        assert letter["reason"] == "no handler for job kind 'mystery'"
        assert letter["source"] == "manga-fm-normal"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0
        assert worker.stderr is not None
        assert "draining" in worker.stderr.read().decode()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if worker.stderr is not None:
            worker.stderr.close()


def test_worker_refuses_unknown_queues(env: dict[str, str]) -> None:
    result = subprocess.run(
        [*CLI, "worker", "--queues", "no-such-queue"], env=env, capture_output=True
    )
    assert result.returncode == 2
    assert "no-such-queue" in result.stderr.decode()
