"""Whole conversations with a served MangaAssist, as a customer has them, in both languages."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


def _talk(server: Server, messages: list[str]) -> list[dict[str, object]]:
    answers: list[dict[str, object]] = []
    session: str | None = None
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        for message in messages:
            body: dict[str, object] = {"message": message}
            if session:
                body["sessionId"] = session
            response = client.post("/v1/chat", json=body)
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "no-store"
            answer = response.json()
            session = str(answer["sessionId"])
            answers.append(answer)
    return answers


def _titles(answer: dict[str, object]) -> list[str]:
    return [str(p["titleJa"]) for p in answer["products"]]  # type: ignore[attr-defined]


def test_japanese_conversation(server: Server) -> None:
    greeting, isekai, more, info, stock, thanks = _talk(
        server,
        [
            "こんにちは",
            "おすすめの異世界マンガは？",
            "他には？",
            "葬送のフリーレンってどんな話？",
            "その2巻は在庫ありますか？",
            "ありがとうございます！",
        ],
    )
    assert greeting["intent"] == "greeting"
    assert isekai["intent"] == "recommend"
    assert len(_titles(isekai)) == 3
    assert more["intent"] == "recommend"
    assert set(_titles(more)).isdisjoint(_titles(isekai))  # new ones, not the same again
    assert "山田鐘人" in str(info["message"])
    assert _titles(stock) == ["葬送のフリーレン"]
    assert "2巻は在庫がございます" in str(stock["message"])
    assert thanks["intent"] == "thanks"
    assert all(a["language"] == "ja" for a in (greeting, isekai, more, info, stock, thanks))


def test_english_conversation(server: Server) -> None:
    hello, horror, others, author, stock, shipping = _talk(
        server,
        [
            "Hi there!",
            "Any good horror manga?",
            "any others?",
            "What else did Junji Ito write?",
            "Is Chainsaw Man in stock?",
            "How much is shipping?",
        ],
    )
    assert hello["intent"] == "greeting"
    assert {p["genre"] for p in horror["products"]} == {"horror"}  # type: ignore[attr-defined]
    assert set(_titles(others)).isdisjoint(_titles(horror))
    assert "うずまき" in _titles(author) or "富江" in _titles(author)
    assert "out of stock" in str(stock["message"])
    assert "¥550" in str(shipping["message"])
    assert all(a["language"] == "en" for a in (hello, horror, others, author, stock, shipping))


def test_history_survives_and_can_be_deleted(server: Server) -> None:
    answers = _talk(server, ["鬼滅の刃の最新刊はありますか？", "Who wrote it?"])
    session = answers[0]["sessionId"]
    with httpx.Client(base_url=server.base_url) as client:
        history = client.get(f"/v1/sessions/{session}/messages").json()
        assert len(history["messages"]) == 4
        assert client.delete(f"/v1/sessions/{session}").status_code == 204
        assert client.get(f"/v1/sessions/{session}/messages").status_code == 404
