"""Chat sessions in the store port, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mangaassist.domain.session import Role, Turn
from mangaassist.store.migrations import MIGRATIONS
from mangaassist.store.sql import SqlStore
from tests.conftest import RecordFactory

JST = timezone(timedelta(hours=9), "JST")
#: Microseconds included on purpose: a backend that truncates them would break equality.
NOW = datetime(2025, 4, 1, 21, 30, 15, 123456, tzinfo=JST)
IDLE = timedelta(minutes=30)


def make_turn(text: str, *, role: Role = Role.USER, at: datetime = NOW, **fields: Any) -> Turn:
    """A turn with defaults for everything but its text."""
    return Turn(role=role, text=text, created_at=at, **fields)


async def test_unknown_session_is_none_and_not_deletable(store: SqlStore) -> None:
    assert await store.get_session("no-such-session") is None
    assert await store.get_session("no-such-session", max_turns=3) is None
    assert await store.delete_session("no-such-session") is False
    assert await store.purge_sessions(NOW) == 0


async def test_first_append_creates_the_session(store: SqlStore) -> None:
    question = make_turn("ワンピースの最新刊はありますか？")

    await store.append_turns("s-first", [question], now=NOW)

    session = await store.get_session("s-first")
    assert session is not None
    assert session.session_id == "s-first"
    assert session.created_at == NOW
    assert session.last_active_at == NOW
    assert session.turns == (question,)


async def test_turns_round_trip_exactly(store: SqlStore) -> None:
    # 𠮷 is outside the BMP, the family emoji a ZWJ sequence, ﾊﾝｶｸ half-width katakana.
    turns = [
        make_turn("𠮷野家の👨‍👩‍👧ﾊﾝｶｸ漫画を探しています🍜", language="ja", request_id="req-1"),
        make_turn(
            "「𠮷」で始まる作品は2件あります。",
            role=Role.ASSISTANT,
            at=NOW + timedelta(seconds=2, microseconds=654321),
            language="ja",
            intent="search",
            product_ids=("MNG-AAAAAAAA", "MNG-BBBBBBBB"),
            tokens=187,
            request_id="req-1",
            cancelled=True,
        ),
        make_turn(
            "Is volume 2 in stock?", at=datetime(2025, 4, 1, 12, 31, tzinfo=UTC), language="en"
        ),
    ]

    await store.append_turns("s-unicode", turns, now=NOW)
    session = await store.get_session("s-unicode")

    assert session is not None
    assert session.turns == tuple(turns)
    assert session.turns[1].product_ids == ("MNG-AAAAAAAA", "MNG-BBBBBBBB")
    assert session.turns[1].cancelled is True
    assert session.turns[0].cancelled is False
    # Datetimes come back timezone-aware, in UTC, as the same instants.
    for loaded, original in zip(session.turns, turns, strict=True):
        assert loaded.created_at.utcoffset() == timedelta(0)
        assert loaded.created_at == original.created_at
    assert session.last_active_at.utcoffset() == timedelta(0)


async def test_many_appends_keep_their_order(store: SqlStore) -> None:
    sent: list[Turn] = []
    for i in range(15):
        # Alternating batch sizes, so sequence numbers must continue across appends.
        batch = [make_turn(f"質問{i}-{j}", at=NOW + timedelta(seconds=i)) for j in range(1 + i % 3)]
        await store.append_turns("s-order", batch, now=NOW + timedelta(seconds=i))
        sent.extend(batch)

    session = await store.get_session("s-order")

    assert session is not None
    assert session.turns == tuple(sent)
    assert session.created_at == NOW
    assert session.last_active_at == NOW + timedelta(seconds=14)


async def test_max_turns_returns_first_and_last_turns(store: SqlStore) -> None:
    turns = [make_turn(f"発言{i}") for i in range(10)]
    await store.append_turns("s-window", turns, now=NOW)

    async def texts(max_turns: int | None) -> list[str]:
        session = await store.get_session("s-window", max_turns=max_turns)
        assert session is not None
        return [turn.text for turn in session.turns]

    assert await texts(3) == ["発言0", "発言7", "発言8", "発言9"]
    assert await texts(1) == ["発言0", "発言9"]
    assert await texts(0) == ["発言0"]
    # The first turn is among the last ones: returned once, not twice.
    assert await texts(9) == [f"発言{i}" for i in range(10)]
    assert await texts(10) == [f"発言{i}" for i in range(10)]
    assert await texts(50) == [f"発言{i}" for i in range(10)]
    assert await texts(None) == [f"発言{i}" for i in range(10)]
    with pytest.raises(ValueError, match="max_turns"):
        await store.get_session("s-window", max_turns=-1)


async def test_concurrent_appends_to_one_session_lose_nothing(store: SqlStore) -> None:
    # Given ten requests of a session that does not exist yet, each appending a question and
    # its answer
    exchanges = [
        [make_turn(f"質問{i}"), make_turn(f"回答{i}", role=Role.ASSISTANT)] for i in range(10)
    ]

    # When they all append at once
    await asyncio.gather(
        *(
            store.append_turns("s-race", exchange, now=NOW + timedelta(milliseconds=i))
            for i, exchange in enumerate(exchanges)
        )
    )

    # Then every turn is there once, and each answer directly follows its own question
    session = await store.get_session("s-race")
    assert session is not None
    texts = [turn.text for turn in session.turns]
    assert len(texts) == 20
    assert sorted(texts) == sorted(turn.text for exchange in exchanges for turn in exchange)
    pairs = [(texts[k], texts[k + 1]) for k in range(0, 20, 2)]
    assert all(question[2:] == answer[2:] for question, answer in pairs), pairs
    assert all(q.startswith("質問") and a.startswith("回答") for q, a in pairs), pairs


async def test_delete_removes_the_session_and_its_turns(store: SqlStore) -> None:
    await store.append_turns("s-delete", [make_turn("古い質問"), make_turn("古い回答")], now=NOW)
    await store.append_turns("s-other", [make_turn("別の会話")], now=NOW)

    assert await store.delete_session("s-delete") is True
    assert await store.delete_session("s-delete") is False
    assert await store.get_session("s-delete") is None

    # A new conversation under the same id starts empty: the old turns went with the session.
    later = NOW + timedelta(hours=1)
    fresh = make_turn("新しい質問", at=later)
    await store.append_turns("s-delete", [fresh], now=later)
    session = await store.get_session("s-delete")
    assert session is not None
    assert session.turns == (fresh,)
    assert session.created_at == later
    other = await store.get_session("s-other")
    assert other is not None
    assert [turn.text for turn in other.turns] == ["別の会話"]


async def test_purge_removes_only_idle_sessions(store: SqlStore) -> None:
    now = NOW + timedelta(hours=2)
    last_active = {
        "s-idle-long": now - timedelta(hours=1),
        "s-idle": now - IDLE - timedelta(seconds=1),
        "s-boundary": now - IDLE,  # exactly at the limit: not before it, so kept
        "s-active": now - timedelta(minutes=5),
    }
    for session_id, at in last_active.items():
        await store.append_turns(session_id, [make_turn("こんにちは", at=at)], now=at)

    assert await store.purge_sessions(now - IDLE) == 2
    assert await store.purge_sessions(now - IDLE) == 0

    assert await store.get_session("s-idle-long") is None
    assert await store.get_session("s-idle") is None
    for kept in ("s-boundary", "s-active"):
        session = await store.get_session(kept)
        assert session is not None
        assert [turn.text for turn in session.turns] == ["こんにちは"]


async def test_expiry_is_the_callers_policy(store: SqlStore) -> None:
    await store.append_turns("s-stale", [make_turn("まだありますか")], now=NOW)

    later = NOW + IDLE + timedelta(minutes=1)
    session = await store.get_session("s-stale")

    assert session is not None  # still stored until purged
    assert session.is_expired(later, IDLE)
    assert not session.is_expired(NOW + IDLE, IDLE)


async def test_touching_with_no_turns_keeps_the_session_alive(store: SqlStore) -> None:
    await store.append_turns("s-touch", [make_turn("質問")], now=NOW)
    later = NOW + timedelta(minutes=20)

    await store.append_turns("s-touch", [], now=later)

    session = await store.get_session("s-touch")
    assert session is not None
    assert (session.created_at, session.last_active_at) == (NOW, later)
    assert len(session.turns) == 1


async def test_invalid_input_is_refused_the_same_on_every_backend(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="session id"):
        await store.append_turns("x" * 65, [make_turn("長すぎる")], now=NOW)
    with pytest.raises(ValueError, match="session id"):
        await store.append_turns("", [make_turn("空")], now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.append_turns("s-naive", [make_turn("素朴")], now=datetime(2025, 4, 1, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.append_turns("s-naive", [make_turn("素朴", at=datetime(2025, 4, 1))], now=NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        await store.purge_sessions(datetime(2025, 4, 1, 12))

    assert await store.get_session("s-naive") is None  # nothing half-written
    await store.append_turns("x" * 64, [make_turn("ちょうど")], now=NOW)
    assert await store.get_session("x" * 64) is not None


@pytest.fixture
def empty_store_url(request: pytest.FixtureRequest, store_backend: str, tmp_path: Path) -> str:
    """A URL to a database no migration has touched, on each backend."""
    if store_backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'old' / 'store.db'}"


async def test_upgrade_from_catalog_only_schema_keeps_catalog(
    empty_store_url: str, record_factory: RecordFactory
) -> None:
    # Given a database at schema version 1 with a loaded catalog
    record = record_factory(title_ja="移行前の漫画")
    old = SqlStore(empty_store_url)
    try:
        assert await old.migrate(target=1) == 1
        await old.upsert_series([record])
    finally:
        await old.close()

    # When a newer release migrates it
    new = SqlStore(empty_store_url)
    try:
        assert await new.schema_version() == 1
        assert await new.migrate() == MIGRATIONS[-1].version

        # Then the catalog is untouched and sessions work
        assert await new.get_series(record.id) == record
        assert await new.count_series() == 1
        assert await new.catalog_version() == 1
        await new.append_turns("s-upgraded", [make_turn("移行後の質問")], now=NOW)
        session = await new.get_session("s-upgraded")
        assert session is not None
        assert [turn.text for turn in session.turns] == ["移行後の質問"]
    finally:
        await new.close()
