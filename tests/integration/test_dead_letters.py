"""Dead letters as an operator handles them: list with filters, show, redrive and purge."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mangaassist.cli import app
from mangaassist.queues.base import QueueBackend, QueueConfig, RedrivePolicy
from mangaassist.queues.dead_letters import DeadLetterFilter, DeadLetters
from mangaassist.queues.sqlite import SqliteQueue
from mangaassist.queues.topology import DEFAULT_TOPOLOGY, ensure_topology
from mangaassist.queues.worker import job_body
from tests.integration.queue_fixtures import FakeClock

DLQ, ORDERS, MAIL = "manga-fm-dlq", "manga-fm-normal", "manga-fm-high-priority"


async def _dead(backend: QueueBackend, source: str, kind: str, failure: str, reason: str) -> str:
    """A job parked by the worker, as the worker parks it."""
    return await backend.send(
        DLQ,
        job_body(kind, f"{kind}-1", {"mangaId": "MNG-AAAAAAAA"}),
        attributes={
            "trace": "t-1",
            "dlq.source": source,
            "dlq.failure": failure,
            "dlq.reason": reason,
            "dlq.kind": kind,
        },
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def backend(tmp_path: Path, clock: FakeClock) -> AsyncIterator[QueueBackend]:
    queue = SqliteQueue(f"sqlite:///{tmp_path / 'queues.db'}", clock=clock)
    await ensure_topology(queue, DEFAULT_TOPOLOGY)
    yield queue
    await queue.close()


async def test_find_filters_by_kind_failure_and_age_and_leaves_everything_in_place(
    backend: QueueBackend, clock: FakeClock
) -> None:
    await _dead(backend, ORDERS, "batch_analysis", "permanent", "MNG-ZZZZZZZZ は存在しません")
    clock.advance(3600)
    await _dead(backend, MAIL, "callback", "transient", "HTTP 503 from the partner")
    letters = DeadLetters(backend, clock=clock)

    everything = await letters.find(DLQ, DeadLetterFilter())
    assert [(d.kind, d.failure, d.source) for d in everything] == [
        ("batch_analysis", "permanent", ORDERS),
        ("callback", "transient", MAIL),
    ]
    assert everything[0].reason == "MNG-ZZZZZZZZ は存在しません"
    only_old = await letters.find(DLQ, DeadLetterFilter(older_than_s=1800))
    assert [d.kind for d in only_old] == ["batch_analysis"]
    only_new = await letters.find(DLQ, DeadLetterFilter(newer_than_s=1800))
    assert [d.kind for d in only_new] == ["callback"]
    assert [d.kind for d in await letters.find(DLQ, DeadLetterFilter(failure="transient"))] == [
        "callback"
    ]
    attributes = await backend.attributes(DLQ)
    assert (attributes.visible, attributes.in_flight) == (2, 0)  # looking moved nothing


async def test_a_message_moved_by_the_redrive_policy_reads_as_max_receives(
    backend: QueueBackend,
) -> None:
    await backend.create_queue(QueueConfig("flaky", redrive=RedrivePolicy(DLQ, 1)))
    await backend.send("flaky", job_body("enrich", "e-1", {}))
    await backend.receive("flaky", visibility_timeout_s=0)
    assert await backend.receive("flaky") == []  # the second receive moved it
    [letter] = await DeadLetters(backend).find(DLQ, DeadLetterFilter())
    assert (letter.kind, letter.failure, letter.source) == ("enrich", "max_receives", "flaky")
    assert "received" in letter.reason


async def test_redrive_sends_each_back_to_its_source_as_first_sent(
    backend: QueueBackend,
) -> None:
    await _dead(backend, ORDERS, "batch_analysis", "permanent", "bad id")
    await _dead(backend, MAIL, "callback", "transient", "HTTP 503")
    await _dead(backend, MAIL, "callback", "transient", "HTTP 502")
    moved = await DeadLetters(backend).redrive(DLQ, DeadLetterFilter(kind="callback"))
    assert moved == {MAIL: 2}
    back = await backend.receive(MAIL, max_messages=10)
    assert len(back) == 2
    assert all(m.attributes == {"trace": "t-1"} for m in back)  # dlq.* removed, the rest kept
    assert all(m.receive_count == 1 for m in back)
    [left] = await DeadLetters(backend).find(DLQ, DeadLetterFilter())
    assert left.kind == "batch_analysis"


async def test_redrive_to_a_named_queue_with_a_limit(backend: QueueBackend) -> None:
    for _ in range(3):
        await _dead(backend, ORDERS, "batch_analysis", "permanent", "bad id")
    moved = await DeadLetters(backend).redrive(DLQ, DeadLetterFilter(), to=MAIL, limit=2)
    assert moved == {MAIL: 2}
    assert (await backend.attributes(MAIL)).visible == 2
    assert (await backend.attributes(DLQ)).visible == 1


async def test_purge_with_a_filter_deletes_only_the_matching(backend: QueueBackend) -> None:
    await _dead(backend, ORDERS, "batch_analysis", "permanent", "bad id")
    await _dead(backend, MAIL, "callback", "transient", "HTTP 503")
    letters = DeadLetters(backend)
    assert await letters.purge(DLQ, DeadLetterFilter(failure="permanent")) == 1
    assert [d.kind for d in await letters.find(DLQ, DeadLetterFilter())] == ["callback"]
    assert await letters.purge(DLQ, DeadLetterFilter()) is None
    assert (await backend.attributes(DLQ)).visible == 0


def test_the_dlq_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MANGAASSIST_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("MANGAASSIST_LOG_LEVEL", "error")
    runner = CliRunner()

    async def seed() -> str:
        queue = SqliteQueue(f"sqlite:///{tmp_path / 'queues.db'}")
        await ensure_topology(queue, DEFAULT_TOPOLOGY)
        message_id = await _dead(queue, ORDERS, "batch_analysis", "permanent", "商品がありません")
        await _dead(queue, MAIL, "callback", "transient", "HTTP 503")
        await queue.close()
        return message_id

    message_id = asyncio.run(seed())
    listed = runner.invoke(app, ["dlq", "list", "--json", "--failure", "permanent"])
    assert listed.exit_code == 0, listed.output
    [row] = [json.loads(line) for line in listed.output.splitlines()]
    assert (row["messageId"], row["reason"], row["kind"]) == (
        message_id,
        "商品がありません",
        "batch_analysis",
    )
    table = runner.invoke(app, ["dlq", "list"])
    assert "2 dead letter(s)" in table.output
    shown = runner.invoke(app, ["dlq", "show", message_id])
    assert json.loads(shown.output)["source"] == ORDERS
    assert runner.invoke(app, ["dlq", "show", "nope"]).exit_code == 1
    redriven = runner.invoke(app, ["dlq", "redrive", "--kind", "callback"])
    assert f"1 → {MAIL}" in redriven.output
    purged = runner.invoke(app, ["dlq", "purge", "--queue", DLQ, "--yes"])
    assert purged.exit_code == 0
    assert "0 dead letter(s)" in runner.invoke(app, ["dlq", "list"]).output
    bad = runner.invoke(app, ["dlq", "list", "--older-than", "soon"])
    assert bad.exit_code == 2
