"""Every model adapter behaves the same on the port: the same faults give the same error kinds.

One parametrized suite over BedrockModel (real aiobotocore against the fake bedrock-runtime) and
OpenAICompatModel (httpx against the fake vLLM-like server): streaming rebuilds the text exactly,
usage arrives, ``complete`` agrees with ``stream``, each fault maps to its ``ErrorKind``, and a
call cancelled by the router's timeout leaves the provider serving the next one. The adapters'
own files test their protocol details.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from mangaassist.llm.base import (
    ChatModel,
    ErrorKind,
    ModelError,
    ModelMessage,
    ModelRequest,
    StreamEnd,
    TextDelta,
)
from mangaassist.llm.setup import Provider
from mangaassist.text.token_estimate import estimate_tokens
from tests.model_servers import bedrock as fake_bedrock
from tests.model_servers import openai as fake_openai
from tests.model_servers.faults import FakeModelState, FaultPlan, Outcome
from tests.model_servers.runner import serve_in_thread

pytestmark = pytest.mark.timeout(60)

REPLY = "『呪術廻戦』は在庫がございます📚👍🏽！家族👨‍👩‍👧‍👦で𠮷野家へ 🇯🇵 ｶﾀｶﾅ also fine."
REQUEST = ModelRequest(
    system="あなたは漫画専門店のアシスタントです。",
    messages=(
        ModelMessage("user", "呪術廻戦はありますか？"),
        ModelMessage("assistant", "はい、ございます。"),
        ModelMessage("user", "在庫を教えてください。"),
    ),
    max_tokens=300,
    temperature=0.2,
)


@dataclass
class Backend:
    name: str
    state: FakeModelState
    provider: Provider
    model: ChatModel


def _bedrock(url: str) -> tuple[Provider, ChatModel]:
    from mangaassist.llm.bedrock import BedrockProvider

    host = url.removeprefix("http://")
    provider = BedrockProvider.from_url(f"bedrock+http://testing:testing@{host}?region=us-east-1")
    return provider, provider.model("anthropic.claude-3-haiku-20240307-v1:0")


def _openai(url: str) -> tuple[Provider, ChatModel]:
    from mangaassist.llm.openai_compat import OpenAIProvider

    provider = OpenAIProvider.from_url(f"openai+{url}/v1")
    return provider, provider.model("qwen2.5-7b-instruct", estimate_tokens)


FAKES: dict[
    str, tuple[Callable[[FakeModelState], FastAPI], Callable[..., tuple[Provider, ChatModel]]]
] = {
    "bedrock": (fake_bedrock.create_app, _bedrock),
    "openai": (fake_openai.create_app, _openai),
}


@pytest.fixture(scope="module", params=sorted(FAKES))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, FakeModelState, str]]:
    create_app, _ = FAKES[request.param]
    state = FakeModelState()
    with serve_in_thread(create_app(state)) as url:
        yield request.param, state, url


@pytest.fixture
async def backend(server: tuple[str, FakeModelState, str]) -> AsyncIterator[Backend]:
    name, state, url = server
    state.set_plan(FaultPlan(reply=REPLY, hang_s=3.0))
    state.calls.clear()
    provider, model = FAKES[name][1](url)
    yield Backend(name, state, provider, model)
    await provider.close()


async def _stream(model: ChatModel) -> tuple[list[str], StreamEnd | None]:
    deltas: list[str] = []
    end: StreamEnd | None = None
    async for event in model.stream(REQUEST):
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            end = event
    return deltas, end


async def test_streaming_rebuilds_the_text_exactly_with_usage(backend: Backend) -> None:
    deltas, end = await _stream(backend.model)
    assert "".join(deltas) == REPLY
    assert len(deltas) > 1
    assert end is not None
    assert end.usage.input_tokens > 0
    assert end.usage.output_tokens > 0
    assert end.stop_reason == "end_turn"


async def test_complete_agrees_with_stream(backend: Backend) -> None:
    completion = await backend.model.complete(REQUEST)
    assert completion.text == REPLY
    assert completion.model_id == backend.model.model_id
    assert completion.usage.output_tokens > 0


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        (Outcome.THROTTLE, ErrorKind.THROTTLED),
        (Outcome.OVERLOADED, ErrorKind.OVERLOADED),
        (Outcome.AUTH, ErrorKind.AUTH),
        (Outcome.CONTEXT, ErrorKind.CONTEXT_TOO_LONG),
        (Outcome.INVALID, ErrorKind.INVALID_REQUEST),
        (Outcome.MALFORMED, ErrorKind.MALFORMED),
    ],
)
async def test_each_fault_maps_to_the_same_error_kind(
    backend: Backend, outcome: Outcome, kind: ErrorKind
) -> None:
    backend.state.set_plan(FaultPlan(script=[outcome], reply=REPLY, retry_after_s=2))
    with pytest.raises(ModelError) as raised:
        await _stream(backend.model)
    assert raised.value.kind == kind
    assert raised.value.model_id == backend.model.model_id
    if outcome == Outcome.THROTTLE:
        assert raised.value.retry_after_s == 2


async def test_a_connection_cut_mid_stream_fails_after_the_deltas_already_sent(
    backend: Backend,
) -> None:
    backend.state.set_plan(FaultPlan(script=[Outcome.DISCONNECT], reply=REPLY, disconnect_after=3))
    received: list[str] = []

    async def read() -> None:
        async for event in backend.model.stream(REQUEST):
            if isinstance(event, TextDelta):
                received.append(event.text)

    with pytest.raises(ModelError) as raised:
        await read()
    assert raised.value.kind in (ErrorKind.OVERLOADED, ErrorKind.MALFORMED)
    assert 0 < len(received) <= 3
    assert REPLY.startswith("".join(received))


@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.STALL])
async def test_a_hung_call_is_cancelled_and_the_provider_serves_the_next(
    backend: Backend, outcome: Outcome
) -> None:
    backend.state.set_plan(FaultPlan(script=[outcome], reply=REPLY, hang_s=3.0))
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await _stream(backend.model)
    deltas, end = await _stream(backend.model)
    assert "".join(deltas) == REPLY
    assert end is not None


async def test_the_request_carries_the_conversation_and_limits(backend: Backend) -> None:
    await _stream(backend.model)
    body = backend.state.calls[-1]["body"]
    text = str(body)
    for message in REQUEST.messages:
        assert message.text in text
    assert REQUEST.system in text
    assert "300" in text  # max tokens, in the provider's own field
