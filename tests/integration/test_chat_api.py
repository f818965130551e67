"""POST /v1/chat and its companions, in process over ASGI, as a store's frontend uses them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.settings import Settings
from tests.conftest import REDIS_URL, redis_problem, require_service


async def _client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        await container.catalog.upsert(parse_catalog(BUILTIN_CATALOG).records)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(store_url=f"sqlite:///{tmp_path / 'chat.db'}", **overrides)


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return build(_settings(tmp_path))


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(container):
        yield c


async def ask(client: httpx.AsyncClient, message: str, **extra: Any) -> httpx.Response:
    return await client.post("/v1/chat", json={"message": message, **extra})


async def test_japanese_question_gets_a_grounded_japanese_answer(client: httpx.AsyncClient) -> None:
    response = await ask(client, "おすすめの異世界マンガは？")
    body = response.json()
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert body["language"] == "ja"
    assert body["intent"] == "recommend"
    assert body["model"] == "offline"
    assert body["requestId"] == response.headers["x-request-id"]
    assert len(body["products"]) == 3
    assert all(p["genre"] == "isekai" for p in body["products"])
    for product in body["products"]:  # every product it recommends, it names
        assert f"『{product['titleJa']}』" in body["message"]
    assert "ございます" in body["message"] or "いたします" in body["message"]
    assert body["usage"]["inputTokens"] > 0
    assert body["costUsd"] == 0.0


async def test_english_question_gets_an_english_answer(client: httpx.AsyncClient) -> None:
    body = (await ask(client, "Is Frieren vol. 12 in stock?")).json()
    assert body["language"] == "en"
    assert body["intent"] == "stock_price"
    assert body["products"][0]["titleJa"] == "葬送のフリーレン"
    assert "Volume 12" in body["message"]
    assert "in stock" in body["message"]


async def test_preferred_language_overrides_detection(client: httpx.AsyncClient) -> None:
    body = (await ask(client, "Is Frieren in stock?", preferredLanguage="ja")).json()
    assert body["language"] == "ja"
    assert "在庫" in body["message"]


@pytest.mark.parametrize(
    "message",
    [
        "あ" * 4000,
        "🎉" * 4000,
        "𠮷田さんのマンガ",
        "👨‍👩‍👧‍👦" + "あ" * 3999,  # the family is one character: exactly 4000
        "ﾜﾝﾋﾟｰｽ ありますか",
        "e\u0301" * 10 + "か\u3099",
    ],
)
async def test_japanese_text_is_accepted(client: httpx.AsyncClient, message: str) -> None:
    assert (await ask(client, message)).status_code == 200


@pytest.mark.parametrize("message", ["あ" * 4001, "👨‍👩‍👧‍👦" + "あ" * 4000])
async def test_too_long_is_rejected_with_the_japanese_message(
    client: httpx.AsyncClient, message: str
) -> None:
    response = await ask(client, message)
    error = response.json()["error"]
    assert response.status_code == 422
    assert error["code"] == "MESSAGE_TOO_LONG"
    assert error["message"] == "メッセージが長すぎます（最大4000文字）"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("", "EMPTY_MESSAGE"),
        (" \u3000\n", "EMPTY_MESSAGE"),
        ("hi\u0007there", "CONTROL_CHARACTERS"),
    ],
)
async def test_bad_messages_get_a_stable_code(
    client: httpx.AsyncClient, message: str, code: str
) -> None:
    response = await ask(client, message)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


async def test_invisible_characters_are_removed_with_a_warning(client: httpx.AsyncClient) -> None:
    body = (await ask(client, "鬼滅\u200bの刃\u202eは在庫ありますか")).json()
    assert [w["code"] for w in body["warnings"]] == ["INVISIBLE_CHARACTERS_REMOVED"]
    assert body["products"][0]["titleJa"] == "鬼滅の刃"


async def test_unknown_keys_and_bad_enums_are_422(client: httpx.AsyncClient) -> None:
    assert (await ask(client, "hi", colour="red")).status_code == 422
    assert (await ask(client, "hi", modelPreference="turbo")).status_code == 422
    assert (await ask(client, "hi", sessionId="bad id!")).status_code == 422


async def test_conversation_follow_ups_and_history(client: httpx.AsyncClient) -> None:
    first = (await ask(client, "葬送のフリーレンってどんな話？")).json()
    session = first["sessionId"]
    second = (await ask(client, "その2巻は在庫ありますか？", sessionId=session)).json()
    assert second["intent"] == "stock_price"
    assert second["products"][0]["titleJa"] == "葬送のフリーレン"
    assert "2巻" in second["message"]

    recommended = (await ask(client, "おすすめのホラー漫画は？", sessionId=session)).json()
    more = (await ask(client, "他には？", sessionId=session)).json()
    shown = {p["id"] for p in recommended["products"]}
    assert more["products"]
    assert shown.isdisjoint(p["id"] for p in more["products"])
    assert all(p["genre"] == "horror" for p in more["products"])

    history = (await client.get(f"/v1/sessions/{session}/messages")).json()
    assert [m["role"] for m in history["messages"]] == ["user", "assistant"] * 4
    assert history["messages"][2]["text"] == "その2巻は在庫ありますか？"


async def test_follow_up_answers_are_not_shared_across_sessions(client: httpx.AsyncClient) -> None:
    a = (await ask(client, "葬送のフリーレンってどんな話？")).json()["sessionId"]
    b = (await ask(client, "鬼滅の刃ってどんな話？")).json()["sessionId"]
    in_a = (await ask(client, "その2巻は在庫ありますか？", sessionId=a)).json()
    in_b = (await ask(client, "その2巻は在庫ありますか？", sessionId=b)).json()
    assert in_a["products"][0]["titleJa"] == "葬送のフリーレン"
    assert in_b["products"][0]["titleJa"] == "鬼滅の刃"
    assert not in_b["cached"]


async def test_repeated_question_is_cached(client: httpx.AsyncClient) -> None:
    first = (await ask(client, "おすすめのスポーツ漫画は？")).json()
    again = (await ask(client, "おすすめのスポーツ漫画は？")).json()
    assert (first["cached"], again["cached"]) == (False, True)
    assert again["message"] == first["message"]
    assert again["usage"] == {"inputTokens": 0, "outputTokens": 0}


async def test_stock_change_is_never_answered_from_a_stale_cache(
    client: httpx.AsyncClient, container: Container
) -> None:
    question = "チェンソーマンは在庫ありますか？"
    before = (await ask(client, question)).json()
    assert "在庫切れ" in before["message"]
    assert (await ask(client, question)).json()["cached"] is True
    chainsaw = await container.catalog.get(before["products"][0]["id"])
    assert chainsaw is not None

    await container.catalog.upsert([chainsaw.model_copy(update={"stock": 5})])

    after = (await ask(client, question)).json()
    assert after["cached"] is False
    assert "在庫がございます" in after["message"]
    assert after["products"][0]["stock"] == 5


async def test_sessions_can_be_deleted(client: httpx.AsyncClient) -> None:
    session = (await ask(client, "こんにちは")).json()["sessionId"]
    assert (await client.delete(f"/v1/sessions/{session}")).status_code == 204
    missing = await client.get(f"/v1/sessions/{session}/messages")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "SESSION_NOT_FOUND"
    assert (await client.delete(f"/v1/sessions/{session}")).status_code == 404


async def test_idle_sessions_start_over(tmp_path: Path) -> None:
    container = build(_settings(tmp_path, session_idle_minutes=0.001))  # 60 ms
    async for client in _client(container):
        session = (await ask(client, "葬送のフリーレンってどんな話？")).json()["sessionId"]
        await asyncio.sleep(0.2)
        follow_up = (await ask(client, "その2巻は在庫ありますか？", sessionId=session)).json()
        assert follow_up["products"] == []  # the earlier topic is gone: it asks which series
        assert "どの作品" in follow_up["message"]


async def test_recommend_endpoint(client: httpx.AsyncClient) -> None:
    liked = (await ask(client, "Is Haikyu in stock?")).json()["products"][0]["id"]
    body = (await client.post("/v1/recommend", json={"likedIds": [liked], "limit": 4})).json()
    assert len(body["products"]) == 4
    assert liked not in [p["id"] for p in body["products"]]
    assert "Haikyu" in body["reason"]
    by_genre = (await client.post("/v1/recommend", json={"genre": "josei"})).json()
    assert all(p["genre"] == "josei" for p in by_genre["products"])


async def test_partner_query_schema(client: httpx.AsyncClient) -> None:
    conversation = str(uuid.uuid4())
    body = {"query": "Who wrote Berserk?", "model": "sonnet", "max_tokens": 300,
            "conversation_id": conversation, "language": "auto",
            "context": {"user_id": "u1", "previous_manga": []}}  # fmt: skip
    response = await client.post("/v1/manga/query", json=body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["sessionId"] == conversation
    assert "Miura" in answer["message"]
    follow = {"query": "Is volume 1 in stock?", "conversation_id": conversation}
    stock = (await client.post("/v1/manga/query", json=follow)).json()
    assert stock["products"][0]["titleJa"] == "ベルセルク"


@pytest.mark.parametrize(
    "body",
    [
        {"query": "", "model": "haiku"},
        {"query": "x", "model": "gpt"},
        {"query": "x", "max_tokens": 5000},
        {"query": "x", "temperature": 1.5},
        {"query": "x", "conversation_id": "not-a-uuid"},
        {"query": "x", "language": "fr"},
        {"query": "x", "context": {"previous_manga": ["a"] * 11}},
        {"query": "x", "extra": True},
    ],
)
async def test_partner_query_rejects_what_the_schema_forbids(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/v1/manga/query", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_token_guard_rejects_what_no_model_may_take(tmp_path: Path) -> None:
    container = build(_settings(tmp_path, cost_guards={"offline": 50}))
    async for client in _client(container):
        response = await ask(client, "鬼滅の刃について" * 20)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "TOKEN_BUDGET_EXCEEDED"
        assert "上限50" in error["message"]
        assert (await ask(client, "こんにちは")).status_code == 200


async def test_events_and_metrics(client: httpx.AsyncClient, container: Container) -> None:
    await ask(client, "Any good horror manga?")
    await ask(client, "Any good horror manga?")
    kinds = [e.detail_type for e in container.events.recent]
    assert kinds == ["ChatMessageReceived", "InferenceCompleted"] * 2
    done = container.events.recent[1].detail
    assert done["model"] == "offline"
    assert done["inputTokens"] > 0
    assert {"latencyMs", "costUsd", "outputTokens"} <= set(done)
    text = (await client.get("/metrics")).text
    assert 'mangaassist_chat_cache_total{result="hit"} 1.0' in text
    assert 'mangaassist_chat_latency_seconds_count{cached="false",model="offline"} 1.0' in text
    assert 'mangaassist_chat_tokens_total{direction="input",model="offline"}' in text


async def test_stock_change_in_one_process_reaches_the_cache_of_another(tmp_path: Path) -> None:
    # Given two API processes sharing the store and a Redis cache
    require_service("Redis", redis_problem)
    namespace = f"mangaassist-test:{uuid.uuid4().hex}"
    settings = _settings(tmp_path, cache_url=REDIS_URL, cache_namespace=namespace)
    api, loader = build(settings), build(settings)
    async for client in _client(api):
        question = "Is Chainsaw Man in stock?"
        first = (await ask(client, question)).json()
        assert "out of stock" in first["message"]
        assert (await ask(client, question)).json()["cached"] is True
        # When the other process restocks the series
        await loader.start()
        record = await loader.catalog.get(first["products"][0]["id"])
        assert record is not None
        await loader.catalog.upsert([record.model_copy(update={"stock": 9})])
        # Then the first process never serves the stale answer
        after = (await ask(client, question)).json()
        assert after["cached"] is False
        assert "is in stock" in after["message"]
        await api.cache.clear()
    await loader.close()
