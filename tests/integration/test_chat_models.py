"""Chat answers from real model servers that throttle, stall, cut and make things up.

Two fake OpenAI-compatible servers (``tests/model_servers/openai.py``) play the primary and the
fallback model of a chain; the app reaches them over HTTP exactly as it reaches vLLM. What the
customer must notice: an answer always comes (HTTP 200), from the fallback when the primary
fails, from the catalog (``degraded``) when both do; a streamed answer that breaks after text was
shown ends with an error event; sentences naming series outside the prompt never appear.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.chat.answer import ChatQuestion
from mangaassist.settings import Settings
from tests.model_servers.faults import FakeModelState, FaultPlan, Outcome
from tests.model_servers.openai import create_app as create_fake
from tests.model_servers.runner import serve_in_thread


class FakeServer:
    def __init__(self, state: FakeModelState, url: str) -> None:
        self.state = state
        self.url = url

    def plan(self, **fields: Any) -> None:
        self.state.set_plan(FaultPlan(**fields))
        self.state.calls.clear()

    def chain_entry(self, model: str) -> str:
        return f"openai+{self.url}/v1#{model}"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeServer, FakeServer]]:
    primary_state, fallback_state = FakeModelState(), FakeModelState()
    with (
        serve_in_thread(create_fake(primary_state)) as primary_url,
        serve_in_thread(create_fake(fallback_state)) as fallback_url,
    ):
        yield FakeServer(primary_state, primary_url), FakeServer(fallback_state, fallback_url)


@pytest.fixture
def primary(servers: tuple[FakeServer, FakeServer]) -> FakeServer:
    servers[0].plan()
    return servers[0]


@pytest.fixture
def fallback(servers: tuple[FakeServer, FakeServer]) -> FakeServer:
    servers[1].plan()
    return servers[1]


def _settings(tmp_path: Path, primary: FakeServer, fallback: FakeServer, **extra: Any) -> Settings:
    chain = [primary.chain_entry("sonnet"), fallback.chain_entry("haiku"), "offline"]
    fields: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path / 'chat.db'}",
        "model_chains": {"fast": chain, "quality": chain},
        "model_prices": {"sonnet": (3.0, 15.0), "haiku": (0.25, 1.25)},
        "model_first_token_s": 0.5,
        "cache_url": "memory://",
        **extra,
    }
    return Settings(**fields)


@asynccontextmanager
async def _client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        await container.catalog.upsert(parse_catalog(BUILTIN_CATALOG).records)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def _ask(container: Container, message: str) -> dict[str, Any]:
    async with _client(container) as client:
        response = await client.post("/v1/chat", json={"message": message})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        body["_metrics"] = (await client.get("/metrics")).text
    return body


async def test_a_throttled_primary_hands_the_answer_to_the_fallback(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    primary.plan(script=[Outcome.THROTTLE, Outcome.THROTTLE])
    fallback.plan(reply="『葬送のフリーレン』は在庫がございます。")
    body = await _ask(build(_settings(tmp_path, primary, fallback)), "葬送のフリーレンの在庫は？")
    assert body["model"] == "haiku"
    assert body["degraded"] is False
    assert body["message"] == "『葬送のフリーレン』は在庫がございます。"
    assert len(primary.state.calls) == 2  # retried once within the deadline
    assert body["costUsd"] > 0
    metrics = body["_metrics"]
    assert 'mangaassist_model_errors_total{kind="throttled",model=' in metrics
    assert 'mangaassist_model_fallbacks_total{model="' in metrics


async def test_a_primary_stalled_before_its_first_token_is_abandoned(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    primary.plan(script=[Outcome.STALL], hang_s=3)
    fallback.plan(reply="Yes, 『Frieren: Beyond Journey's End』 is in stock.")
    body = await _ask(build(_settings(tmp_path, primary, fallback)), "Is Frieren in stock?")
    assert body["model"] == "haiku"
    assert len(primary.state.calls) == 1


async def test_a_model_too_slow_for_the_deadline_degrades_to_the_catalog_answer(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    slow = {"first_token_s": (0.2, 0.2), "token_interval_s": 0.5, "reply": "ゆっくり。" * 20}
    primary.plan(**slow)
    fallback.plan(**slow)
    settings = _settings(tmp_path, primary, fallback, chat_deadline_s=1.0)
    body = await _ask(build(settings), "おすすめの異世界マンガは？")
    assert body["degraded"] is True
    assert "ゆっくり" not in body["message"]
    assert [p["genre"] for p in body["products"]] == ["isekai"] * 3


async def test_a_primary_that_never_responds_is_abandoned_for_the_fallback(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    primary.plan(script=[Outcome.TIMEOUT], hang_s=3)
    fallback.plan(reply="『葬送のフリーレン』は在庫がございます。")
    body = await _ask(build(_settings(tmp_path, primary, fallback)), "葬送のフリーレンの在庫は？")
    assert (body["model"], body["degraded"]) == ("haiku", False)


async def test_a_throttling_burst_opens_the_breaker_and_the_primary_is_spared(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    primary.plan(rates={Outcome.THROTTLE: 1.0})
    fallback.plan(reply="『葬送のフリーレン』は在庫がございます。")
    settings = _settings(tmp_path, primary, fallback, breaker_failures=3, model_attempts=1)
    container = build(settings)
    async with _client(container) as client:
        models = []
        for i in range(6):
            response = await client.post(
                "/v1/chat", json={"message": f"葬送のフリーレンの在庫は？{i}"}
            )
            assert response.status_code == 200
            models.append(response.json()["model"])
        metrics = (await client.get("/metrics")).text
    assert models == ["haiku"] * 6
    assert len(primary.state.calls) == 3  # then skipped while its breaker is open
    assert 'mangaassist_model_breaker_state{model="' in metrics
    assert "} 2.0" in next(
        line for line in metrics.splitlines() if line.startswith("mangaassist_model_breaker_state")
    )
    assert 'reason="breaker_open"' in metrics


@pytest.mark.parametrize("fault", [Outcome.OVERLOADED, Outcome.MALFORMED, Outcome.AUTH])
async def test_when_every_model_fails_the_customer_gets_the_catalog_answer(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer, fault: Outcome
) -> None:
    primary.plan(rates={fault: 1.0})
    fallback.plan(rates={fault: 1.0})
    container = build(_settings(tmp_path, primary, fallback))
    body = await _ask(container, "おすすめの異世界マンガは？")
    assert body["degraded"] is True
    assert body["model"] == "offline"
    assert [p["genre"] for p in body["products"]] == ["isekai"] * 3
    done = [e for e in container.events.recent if e.detail_type == "InferenceCompleted"][-1]
    assert done.detail["status"] == "degraded"
    assert done.detail["degradedReason"] == ("auth" if fault == Outcome.AUTH else str(fault))


async def test_sentences_naming_series_outside_the_prompt_are_dropped(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    primary.plan(
        reply=(
            "『葬送のフリーレン』は在庫がございます。『NARUTO』も人気です。"
            "『ドラゴン王国物語』もおすすめです。ご検討ください。"
        )
    )
    body = await _ask(build(_settings(tmp_path, primary, fallback)), "葬送のフリーレンの在庫は？")
    assert body["model"] == "sonnet"
    assert body["message"] == "『葬送のフリーレン』は在庫がございます。ご検討ください。"
    metric = 'mangaassist_model_ungrounded_sentences_total{model="'
    assert metric in body["_metrics"]


async def test_the_prompt_is_keigo_with_the_retrieved_products(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    primary.plan(reply="『葬送のフリーレン』は在庫がございます。")
    await _ask(build(_settings(tmp_path, primary, fallback)), "葬送のフリーレンの在庫は？")
    body = primary.state.calls[0]["body"]
    system = body["messages"][0]
    assert system["role"] == "system"
    assert "丁寧な敬語" in system["content"]
    assert "『葬送のフリーレン』" in system["content"]
    assert body["messages"][-1] == {"role": "user", "content": "葬送のフリーレンの在庫は？"}
    assert body["stream"] is True


async def test_a_stream_cut_after_text_was_shown_ends_with_an_error_event(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    primary.plan(
        script=[Outcome.DISCONNECT],
        disconnect_after=12,  # after the first sentence (10 pieces) was shown
        reply="『葬送のフリーレン』は在庫がございます。ぜひどうぞ。お待ちしております。",
    )
    container = build(_settings(tmp_path, primary, fallback))
    async with _client(container):
        started = await container.streaming.start(ChatQuestion("葬送のフリーレンの在庫は？"))
        events = [e async for e in container.streaming.follow(started.message_id)]
        kinds = [e.kind for e in events]
        assert kinds[0] == "delta"
        assert kinds[-1] == "error"
        assert "done" not in kinds
        assert events[-1].data["code"] == "ANSWER_INTERRUPTED"
        shown = "".join(str(e.data["text"]) for e in events if e.kind == "delta")
        assert shown.startswith("『葬送のフリーレン』は在庫がございます。")
        session = await container.store.get_session(started.session_id)
        assert session is not None
        assert session.turns[-1].text == shown  # the conversation keeps what was shown
        assert fallback.state.calls == []  # shown text is never replaced by another model's


async def test_a_stream_that_fails_before_any_text_falls_back_silently(
    tmp_path: Path, primary: FakeServer, fallback: FakeServer
) -> None:
    primary.plan(script=[Outcome.OVERLOADED, Outcome.OVERLOADED])
    fallback.plan(reply="Yes, 『Frieren: Beyond Journey's End』 is in stock.")
    container = build(_settings(tmp_path, primary, fallback))
    async with _client(container):
        started = await container.streaming.start(ChatQuestion("Is Frieren in stock?"))
        events = [e async for e in container.streaming.follow(started.message_id)]
        assert events[-1].kind == "done"
        answer = events[-1].data["answer"]
        assert isinstance(answer, dict)
        assert answer["model"] == "haiku"
        text = "".join(str(e.data["text"]) for e in events if e.kind == "delta")
        assert text == answer["message"] == "Yes, 『Frieren: Beyond Journey's End』 is in stock."


def test_chains_name_models_of_other_providers_without_credentials_in_metrics(
    tmp_path: Path,
) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'c.db'}",
        model_chains={
            "fast": ["openai+http://127.0.0.1:9/v1#qwen", "offline"],
            "quality": ["bedrock+http://key:secret@127.0.0.1:9?region=us-east-1#claude", "offline"],
        },
    )
    container = build(settings)
    keys = json.dumps({tier.value: chain for tier, chain in container.models.chains.items()})
    assert "secret" not in keys
    assert container.models.chains[next(iter(container.models.chains))][-1] == "offline"
