"""Streamed answers through the service: resumable on another process when the buffer is Redis."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from mangaassist.bootstrap import build
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.chat.answer import ChatQuestion
from mangaassist.settings import Settings
from tests.conftest import REDIS_URL, redis_problem, require_service


async def test_a_message_started_on_one_process_resumes_on_another(tmp_path: Path) -> None:
    # Given two API processes sharing the store and Redis, answers paced like a model
    require_service("Redis", redis_problem)
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'stream.db'}",
        cache_url=REDIS_URL,
        cache_namespace=f"mangaassist-test:{uuid.uuid4().hex}",
        offline_delta_delay_ms=10,
    )
    first, second = build(settings), build(settings)
    await first.start()
    await first.catalog.upsert(parse_catalog(BUILTIN_CATALOG).records)
    try:
        # When the first process starts an answer and the client reads a little of it there
        started = await first.streaming.start(ChatQuestion("Any good horror manga?"))
        seen = []
        async for event in first.streaming.follow(started.message_id):
            seen.append(event)
            if len(seen) == 3:
                break
        # Then the client, reconnected to the second process, gets the rest exactly once
        rest = [e async for e in second.streaming.follow(started.message_id, seen[-1].seq)]
        seqs = [e.seq for e in seen + rest]
        assert seqs == list(range(1, len(seqs) + 1))
        assert rest[-1].kind == "done"
        answer = rest[-1].data["answer"]
        assert isinstance(answer, dict)
        text = "".join(str(e.data["text"]) for e in seen + rest if e.kind == "delta")
        assert text == answer["message"]
    finally:
        await first.streaming.close()
        await first.cache.clear()
        await first.close()
        await second.close()


async def test_cancel_records_a_cancelled_turn(tmp_path: Path) -> None:
    container = build(
        Settings(store_url=f"sqlite:///{tmp_path / 'c.db'}", offline_delta_delay_ms=20)
    )
    await container.start()
    await container.catalog.upsert(parse_catalog(BUILTIN_CATALOG).records)
    started = await container.streaming.start(ChatQuestion("おすすめの異世界マンガは？"))
    await asyncio.sleep(0.1)

    assert await container.streaming.cancel(started.message_id) is True
    assert await container.streaming.cancel(started.message_id) is False

    events = [e async for e in container.streaming.follow(started.message_id)]
    assert events[-1].kind == "cancelled"
    session = await container.store.get_session(started.session_id)
    assert session is not None
    assert session.turns[-1].cancelled is True
    delivered = "".join(str(e.data["text"]) for e in events if e.kind == "delta")
    assert session.turns[-1].text == delivered
    await container.close()
