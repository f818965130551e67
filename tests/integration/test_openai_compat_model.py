"""The OpenAI-compatible adapter against a fake server that streams and fails like vLLM does."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mangaassist.llm.base import (
    ChatModel,
    ContextTooLong,
    ModelAuthError,
    ModelError,
    ModelInvalidRequest,
    ModelMalformedResponse,
    ModelMessage,
    ModelOverloaded,
    ModelRequest,
    ModelThrottled,
    ModelTimeout,
    StreamEnd,
    TextDelta,
    Usage,
)
from mangaassist.llm.openai_compat import (
    ChatChunkReader,
    OpenAICompatModel,
    OpenAIProvider,
    openai_error,
    retry_after_s,
)
from mangaassist.llm.sse import SseEvent, parse_sse_lines
from mangaassist.text.token_estimate import estimate_tokens
from tests.model_servers.faults import FakeModelState, FaultPlan, Outcome, split_reply
from tests.model_servers.openai import REPLY_JA, create_app, prompt_tokens
from tests.model_servers.runner import serve_in_thread

pytestmark = pytest.mark.timeout(30)

API_KEY = "sk-test-7f3a9c2e5b"
MODEL = "Qwen/Qwen2.5-7B-Instruct"
SYSTEM = "You are the assistant of a manga shop. Answer in the customer's language."
REQUEST = ModelRequest(
    system=SYSTEM,
    messages=(
        ModelMessage("user", "Do you have Frieren?"),
        ModelMessage("assistant", "Yes, volumes 1 to 14 are in stock."),
        ModelMessage("user", "『葬送のフリーレン』の14巻はありますか？"),
    ),
    max_tokens=300,
    temperature=0.3,
)
#: Japanese, an emoji with a skin tone, 𠮷 (outside the BMP) and a ZWJ family: split_reply cuts
#: every two code points, so pieces break grapheme clusters apart as real tokenizers do.
TRICKY_REPLY = "在庫は3冊です👍🏽 𠮷野家の近く、👨‍👩‍👧‍👦 family pack! 🇯🇵 と ｶﾀｶﾅ。"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeModelState, str]]:
    state = FakeModelState()
    with serve_in_thread(create_app(state, api_key=API_KEY)) as url:
        yield state, url


@pytest.fixture
def state(server: tuple[FakeModelState, str]) -> FakeModelState:
    state = server[0]
    state.set_plan(FaultPlan())
    state.calls.clear()
    return state


@pytest.fixture
async def provider(
    server: tuple[FakeModelState, str], state: FakeModelState
) -> AsyncIterator[OpenAIProvider]:
    provider = OpenAIProvider(f"{server[1]}/v1", API_KEY, read_timeout_s=5.0)
    yield provider
    await provider.close()


@pytest.fixture
def model(provider: OpenAIProvider) -> OpenAICompatModel:
    return OpenAICompatModel(MODEL, provider, estimate_tokens)


async def collect(
    model: ChatModel, request: ModelRequest = REQUEST
) -> tuple[list[str], list[StreamEnd], ModelError | None]:
    """The deltas, the ends and the error of one streamed call (deltas seen before an error
    are kept: the customer saw them)."""
    deltas: list[str] = []
    ends: list[StreamEnd] = []
    try:
        async for event in model.stream(request):
            if isinstance(event, TextDelta):
                assert not ends, "a delta came after the StreamEnd"
                deltas.append(event.text)
            else:
                ends.append(event)
    except ModelError as exc:
        return deltas, ends, exc
    return deltas, ends, None


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- answers -------------------------------------------------------------------------------------


async def test_streamed_deltas_rebuild_the_exact_reply(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    state.set_plan(FaultPlan(reply=TRICKY_REPLY))
    deltas, ends, error = await collect(model)
    assert error is None
    assert "".join(deltas) == TRICKY_REPLY
    assert deltas == split_reply(TRICKY_REPLY)  # one delta per chunk, none empty (role chunk)
    assert len(ends) == 1
    assert ends[0].stop_reason == "end_turn"


async def test_the_request_carries_model_system_first_limits_and_the_key(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    await collect(model)
    (call,) = state.calls
    assert call["path"] == "/v1/chat/completions"
    assert call["authorization"] == f"Bearer {API_KEY}"
    assert call["body"] == {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Do you have Frieren?"},
            {"role": "assistant", "content": "Yes, volumes 1 to 14 are in stock."},
            {"role": "user", "content": "『葬送のフリーレン』の14巻はありますか？"},
        ],
        "max_tokens": 300,
        "temperature": 0.3,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


async def test_usage_comes_from_the_stream_when_the_server_sends_it(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    _, ends, _ = await collect(model)
    body = state.calls[0]["body"]
    expected = Usage(prompt_tokens(body), len(split_reply(REPLY_JA)))
    assert ends[0].usage == expected
    assert expected.input_tokens != estimate_tokens(SYSTEM)  # not an estimate by accident


async def test_usage_is_estimated_when_the_server_sends_none(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    state.set_plan(FaultPlan(usage_in_stream=False))
    deltas, ends, _ = await collect(model)
    usage = ends[0].usage
    assert usage.input_tokens == estimate_tokens(SYSTEM) + sum(
        estimate_tokens(m.text) for m in REQUEST.messages
    )
    assert usage.output_tokens == estimate_tokens("".join(deltas)) > 0


async def test_an_answer_cut_at_max_tokens_stops_for_max_tokens(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    state.set_plan(FaultPlan(reply="one two three four five six"))
    request = ModelRequest(SYSTEM, REQUEST.messages, max_tokens=3)
    deltas, ends, _ = await collect(model, request)
    assert "".join(deltas) == "one two three "
    assert ends[0].stop_reason == "max_tokens"
    assert ends[0].usage.output_tokens == 3


async def test_complete_asks_without_a_stream(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    completion = await model.complete(REQUEST)
    assert completion.text == REPLY_JA
    assert completion.model_id == MODEL
    assert completion.stop_reason == "end_turn"
    assert completion.usage.output_tokens == len(split_reply(REPLY_JA))
    assert state.calls[0]["body"]["stream"] is False
    assert "stream_options" not in state.calls[0]["body"]


async def test_a_broken_answer_without_a_stream_is_malformed(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    state.set_plan(FaultPlan(script=[Outcome.MALFORMED]))
    with pytest.raises(ModelMalformedResponse) as caught:
        await model.complete(REQUEST)
    assert caught.value.model_id == MODEL


# --- credentials ---------------------------------------------------------------------------------


async def test_a_wrong_key_is_an_auth_error_that_never_shows_a_key(
    server: tuple[FakeModelState, str], state: FakeModelState
) -> None:
    provider = OpenAIProvider(f"{server[1]}/v1", "sk-wrong-0123456789")
    try:
        _, _, error = await collect(OpenAICompatModel(MODEL, provider, estimate_tokens))
    finally:
        await provider.close()
    assert isinstance(error, ModelAuthError)
    assert error.model_id == MODEL
    assert "sk-wrong" not in str(error)
    assert API_KEY not in str(error)
    assert "sk-wrong" not in repr(provider)


async def test_without_a_key_no_authorization_header_is_sent(
    server: tuple[FakeModelState, str], state: FakeModelState
) -> None:
    provider = OpenAIProvider(f"{server[1]}/v1")
    try:
        _, _, error = await collect(OpenAICompatModel(MODEL, provider, estimate_tokens))
    finally:
        await provider.close()
    assert state.calls[0]["authorization"] is None
    assert isinstance(error, ModelAuthError)  # this server wants a key


def test_a_key_a_server_echoes_is_redacted() -> None:
    provider = OpenAIProvider("http://127.0.0.1:9/v1", API_KEY)
    error = openai_error(
        401,
        f'{{"error": "Invalid proxy server token passed. Received API Key = {API_KEY}"}}',
        model_id=MODEL,
        redact=provider.redact,
    )
    assert API_KEY not in str(error)
    assert "***" in str(error)


# --- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "kind", "retry_after"),
    [
        (Outcome.THROTTLE, ModelThrottled, 1.5),
        (Outcome.OVERLOADED, ModelOverloaded, 1.5),
        (Outcome.AUTH, ModelAuthError, None),
        (Outcome.CONTEXT, ContextTooLong, None),
        (Outcome.INVALID, ModelInvalidRequest, None),
    ],
)
async def test_a_refused_call_raises_its_kind_before_any_text(
    model: OpenAICompatModel,
    state: FakeModelState,
    outcome: Outcome,
    kind: type[ModelError],
    retry_after: float | None,
) -> None:
    state.set_plan(FaultPlan(script=[outcome], retry_after_s=1.5))
    deltas, ends, error = await collect(model)
    assert deltas == []
    assert ends == []
    assert type(error) is kind
    assert error.model_id == MODEL
    assert error.retry_after_s == retry_after


async def test_a_malformed_stream_fails_after_the_text_before_it(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    state.set_plan(FaultPlan(script=[Outcome.MALFORMED], reply="one two three four"))
    deltas, ends, error = await collect(model)
    assert deltas == ["one ", "two "]
    assert ends == []
    assert isinstance(error, ModelMalformedResponse)
    assert error.transient


async def test_a_cut_connection_fails_after_the_text_already_shown(
    model: OpenAICompatModel, state: FakeModelState
) -> None:
    reply = "one two three four five six"
    state.set_plan(FaultPlan(script=[Outcome.DISCONNECT], reply=reply, disconnect_after=3))
    deltas, ends, error = await collect(model)
    assert deltas == ["one ", "two ", "three "]
    assert ends == []
    assert isinstance(error, ModelOverloaded)
    assert error.model_id == MODEL


async def test_a_refused_connection_is_overloaded() -> None:
    provider = OpenAIProvider(f"http://127.0.0.1:{closed_port()}/v1", API_KEY)
    try:
        _, _, error = await collect(OpenAICompatModel(MODEL, provider, estimate_tokens))
    finally:
        await provider.close()
    assert isinstance(error, ModelOverloaded)
    assert error.model_id == MODEL


@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.STALL])
async def test_a_hung_call_cancelled_by_the_deadline_frees_the_provider(
    model: OpenAICompatModel, state: FakeModelState, outcome: Outcome
) -> None:
    # Given a server that hangs this call (no headers, or the role chunk and then nothing)
    state.set_plan(FaultPlan(script=[outcome], hang_s=2.0))
    started = time.monotonic()
    # When the router's deadline cancels it
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await collect(model)
    # Then the cancellation is prompt and the same provider answers the next call
    assert time.monotonic() - started < 1.0
    deltas, ends, error = await collect(model)
    assert error is None
    assert "".join(deltas) == REPLY_JA
    assert len(ends) == 1
    assert time.monotonic() - started < 1.5  # the next call did not wait for the hang


@pytest.mark.parametrize("outcome", [Outcome.TIMEOUT, Outcome.STALL])
async def test_a_silent_server_times_out_at_the_read_timeout(
    server: tuple[FakeModelState, str], state: FakeModelState, outcome: Outcome
) -> None:
    state.set_plan(FaultPlan(script=[outcome], hang_s=2.0))
    provider = OpenAIProvider(f"{server[1]}/v1", API_KEY, read_timeout_s=0.3)
    try:
        _, _, error = await collect(OpenAICompatModel(MODEL, provider, estimate_tokens))
    finally:
        await provider.close()
    assert isinstance(error, ModelTimeout)
    assert error.model_id == MODEL


# --- error bodies and stream events, without a server --------------------------------------------

VLLM_CONTEXT = (
    "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens "
    "(4700 in the messages, 300 in the completion). Please reduce the length of the messages."
)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (
            429,
            '{"error": {"message": "Rate limit", "code": "rate_limit_exceeded"}}',
            ModelThrottled,
        ),
        (401, '{"error": "Unauthorized"}', ModelAuthError),
        (403, "Forbidden", ModelAuthError),
        (400, f'{{"error": {{"message": "{VLLM_CONTEXT}", "code": 400}}}}', ContextTooLong),
        (400, '{"error": {"message": "x", "code": "context_length_exceeded"}}', ContextTooLong),
        (
            400,
            '{"error": {"code": 400, "message": "the request exceeds the available context size,'
            ' try increasing it", "type": "exceed_context_size_error"}}',
            ContextTooLong,
        ),
        (413, "Prompt too long for this model", ContextTooLong),
        (400, '{"error": {"message": "temperature must be <= 2"}}', ModelInvalidRequest),
        (404, '{"error": {"message": "The model `x` does not exist."}}', ModelInvalidRequest),
        (404, '{"error": "model \\"x\\" not found, try pulling it first"}', ModelInvalidRequest),
        (
            422,
            '{"detail": [{"loc": ["body", "messages"], "msg": "required"}]}',
            ModelInvalidRequest,
        ),
        (408, "Request Timeout", ModelTimeout),
        (500, "Internal Server Error", ModelOverloaded),
        (503, "", ModelOverloaded),
    ],
)
def test_an_http_error_maps_to_its_kind(status: int, body: str, kind: type[ModelError]) -> None:
    error = openai_error(status, body.encode(), model_id=MODEL)
    assert type(error) is kind
    assert error.model_id == MODEL
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize(
    ("chunk", "kind"),
    [
        # vLLM (recent): an error object in place of a chunk
        (f'{{"error": {{"message": "{VLLM_CONTEXT}", "code": 400}}}}', ContextTooLong),
        # vLLM (older): the error fields at the top level
        ('{"object": "error", "message": "engine dead", "code": 500}', ModelOverloaded),
        # LiteLLM: the status as a string
        ('{"error": {"message": "RateLimitError: slow down", "code": "429"}}', ModelThrottled),
        ('{"error": {"message": "bad key", "type": "authentication_error"}}', ModelAuthError),
        ('{"error": {"message": "something broke"}}', ModelOverloaded),
        ('{"error": "upstream failed"}', ModelOverloaded),
        ("{not json", ModelMalformedResponse),
        ('["a list"]', ModelMalformedResponse),
    ],
)
def test_a_bad_stream_event_raises_its_kind(chunk: str, kind: type[ModelError]) -> None:
    reader = ChatChunkReader(MODEL)
    with pytest.raises(kind) as caught:
        reader.read(chunk)
    assert caught.value.model_id == MODEL


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("content_filter", "content_filter")],
)
async def test_finish_reasons_become_stop_reasons(finish_reason: str, stop_reason: str) -> None:
    # Given a server's whole stream, served by a model whose transport is replaced
    lines = [
        'data: {"choices": [{"delta": {"role": "assistant"}, "finish_reason": null}]}',
        "",
        'data: {"choices": [{"delta": {"content": "はい"}, "finish_reason": null}], "usage": null}',
        "",
        f'data: {{"choices": [{{"delta": {{}}, "finish_reason": "{finish_reason}"}}]}}',
        "",
    ]
    events = await _stream_over(lines)
    assert events[:-1] == [TextDelta("はい")]
    end = events[-1]
    assert isinstance(end, StreamEnd)
    assert end.stop_reason == stop_reason


async def test_a_stream_without_done_or_finish_reason_is_malformed() -> None:
    lines = ['data: {"choices": [{"delta": {"content": "はい"}}]}', ""]
    with pytest.raises(ModelMalformedResponse, match="without"):
        await _stream_over(lines)


async def _stream_over(lines: list[str]) -> list[object]:
    """The events of ``OpenAICompatModel.stream`` over a response made of ``lines``."""
    body = "\n".join(lines).encode()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    provider = OpenAIProvider("http://model.test/v1", transport=transport)
    try:
        model = OpenAICompatModel(MODEL, provider, estimate_tokens)
        return [event async for event in model.stream(REQUEST)]
    finally:
        await provider.close()


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "inf"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_in_seconds(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_s(headers) == seconds


def test_retry_after_may_be_an_http_date() -> None:
    seconds = retry_after_s({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert seconds is not None
    assert 25 <= seconds <= 31


# --- server-sent events --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "events"),
    [
        (["data: {}", "", "data: [DONE]", ""], [SseEvent("{}"), SseEvent("[DONE]")]),
        (["data: x\r\n", "\r\n", "data: y\n", "\n"], [SseEvent("x"), SseEvent("y")]),
        (["data:x", ""], [SseEvent("x")]),
        (["data:  x", ""], [SseEvent(" x")]),
        ([": keep-alive", "", ":", "data: x", ""], [SseEvent("x")]),
        (["event: error", "id: 7", "retry: 10", "data: y", ""], [SseEvent("y", "error")]),
        (["data: a", "data: b", ""], [SseEvent("a\nb")]),
        (["", "", "data: last"], [SseEvent("last")]),
        (["data", ""], [SseEvent("")]),
        (["event: ping", "", "", ""], []),
    ],
)
def test_odd_server_sent_events_parse(lines: list[str], events: list[SseEvent]) -> None:
    assert parse_sse_lines(lines) == events


@given(
    st.lists(
        st.tuples(
            st.text(st.characters(exclude_characters="\r\n")),
            st.sampled_from(["\n", "\r\n", "\r"]),
            st.booleans(),  # "data:" without its space
            st.booleans(),  # a comment before the event
        ),
        max_size=8,
    )
)
def test_every_event_survives_any_line_endings_and_comments(
    events: list[tuple[str, str, bool, bool]],
) -> None:
    # Given a body written with any mix of line endings, with and without comments
    body = ""
    for data, ending, tight, comment in events:
        if comment:
            body += f": keep-alive{ending}"
        space = "" if tight and not data.startswith(" ") else " "
        body += f"data:{space}{data}{ending}{ending}"
    # When it is split into lines the way httpx does (LF, CRLF or CR)
    lines = re.split(r"\r\n|\r|\n", body)
    # Then every event's data comes back whole
    assert [e.data for e in parse_sse_lines(lines)] == [data for data, *_ in events]


# --- the provider's URL --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "base_url"),
    [
        ("openai+http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("openai+http://localhost:11434", "http://localhost:11434/v1"),
        ("openai+http://localhost:1234/", "http://localhost:1234/v1"),
        ("openai+https://llm.example.com/v1/", "https://llm.example.com/v1"),
        ("openai+https://proxy.example.com/litellm/v1", "https://proxy.example.com/litellm/v1"),
        ("openai+http://[::1]:8080/v1", "http://[::1]:8080/v1"),
    ],
)
def test_from_url_finds_the_base_url(url: str, base_url: str) -> None:
    assert OpenAIProvider.from_url(url).base_url == base_url


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8000/v1", "not an OpenAI-compatible URL"),
        ("openai://127.0.0.1:8000/v1", "not an OpenAI-compatible URL"),
        ("127.0.0.1:8000", "not an OpenAI-compatible URL"),
        ("openai+http:///v1", "needs a host"),
        ("openai+http://host:99999/v1", "invalid port"),
        ("openai+http://host:port/v1", "invalid port"),
        ("openai+http://host:8000/v1?model=x", "no query"),
        ("openai+http://user:sk-secret@host:8000/v1", "no credentials"),
    ],
)
def test_from_url_refuses_other_urls(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        OpenAIProvider.from_url(url)
    assert "sk-secret" not in str(caught.value)
